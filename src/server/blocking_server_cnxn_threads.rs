//! The threads that run client connections, and how an idle one stays
//! small.
//!
//! Thread per connection: while a connection lives, one thread serves it
//! (see the parent module). When the connection ends, its thread does not
//! exit at once: it parks for a while and serves the next accepted
//! connection, so a session open+close cycle does not pay for a thread's
//! stack mapping, clone, exit and unmapping every time. Parked threads
//! wait for connections, never for sockets: an idle connection still owns
//! its thread.
//!
//! Memory of an idle connection: only the touched pages of a thread stack
//! are resident, and glibc keeps the thread descriptor and static TLS at
//! the top of the stack mapping. The connection loop blocks in `recv` and
//! `poll` a few small frames below the thread's entry, and a connection
//! quiet for [`QUIET`] gives back the deeper stack pages ([`trim_stack`])
//! before waiting on. With glibc's default static-TLS surplus the entry
//! frames already start in the stack's second page; `src/main.rs` runs
//! the server with a smaller surplus, so an idle connection's whole stack
//! is the one top page.
//!
//! Threads: the accept thread calls [`start`]; workers run connections and
//! park between them. The pool state is one std mutex: std's futex locks
//! keep nothing per thread, whereas parking_lot allocates a record (and
//! grows a global table) for every thread that ever parks on one of its
//! locks, which 10,000 idle connections would pay for.
//!
//! Mirrors: nothing one to one; Java's `NIOServerCnxnFactory` keeps a
//! fixed pool of worker threads behind its selector threads.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::BlockingServerCnxn;

/// Stack of a connection thread: only the touched pages cost memory, but
/// the reader runs Prep and reads inline, so leave room.
pub const CNXN_STACK_SIZE: usize = 256 * 1024;
/// A connection (or a parked thread) that has waited this long without a
/// byte gives back its buffers and deeper stack pages before waiting on.
/// Short enough that idle connections are small within a second, long
/// enough that busy ones never pay for it.
pub const QUIET: Duration = Duration::from_millis(250);
/// Threads kept parked for future connections at most. Large enough that
/// a mass reconnect (a follower that lost its leader drops every client,
/// which come back once it serves again) mostly reuses the threads of the
/// connections that just closed instead of unmapping and mapping thousands
/// of stacks; a parked thread is one trimmed stack page.
const MAX_PARKED: usize = 4096;
/// How long a parked thread waits for a connection before it exits.
const PARKED_KEEP: Duration = Duration::from_secs(60);

/// Numbers the worker threads' names.
static NEXT_WORKER: AtomicU64 = AtomicU64::new(1);

/// Takes a std mutex whether or not a panicking holder poisoned it (the
/// guarded state stays consistent: every critical section is a few plain
/// updates).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The parked threads and the connections handed to them.
struct Pool {
    /// Guarded state; held for a few updates only.
    state: Mutex<PoolState>,
    /// Signalled when a connection is handed over.
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    /// Threads parked in [`Pool::park`] (including ones briefly trimming
    /// their stack outside the lock).
    parked: usize,
    /// Connections handed over and not yet picked up; never longer than
    /// `parked`, so each has a thread coming for it.
    handoff: VecDeque<Arc<BlockingServerCnxn>>,
}

/// Where a new connection goes.
#[derive(Debug, PartialEq, Eq)]
enum Placement {
    /// A parked thread is free for it.
    Parked,
    /// Every parked thread is already spoken for: start one.
    NewThread,
}

/// With `parked` threads parked and `waiting` connections already handed
/// to them, where does the next connection go?
fn place(parked: usize, waiting: usize) -> Placement {
    match parked > waiting {
        true => Placement::Parked,
        false => Placement::NewThread,
    }
}

/// Should a thread that just finished a connection park (rather than
/// exit), with `parked` threads already parked?
fn may_park(parked: usize) -> bool {
    parked < MAX_PARKED
}

/// How long a parked thread waits next, `waited` after parking: until
/// [`QUIET`] (then it trims), then until [`PARKED_KEEP`]; `None` when its
/// time is up.
fn park_wait(waited: Duration, trimmed: bool) -> Option<Duration> {
    if waited >= PARKED_KEEP {
        return None;
    }
    Some(match trimmed {
        false => QUIET.saturating_sub(waited),
        true => PARKED_KEEP - waited,
    })
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState::default()),
        work: Condvar::new(),
    })
}

/// Runs `cnxn` on a parked thread, or on a new one.
pub(super) fn start(cnxn: Arc<BlockingServerCnxn>) -> io::Result<()> {
    let pool = pool();
    let mut st = lock(&pool.state);
    if place(st.parked, st.handoff.len()) == Placement::Parked {
        st.handoff.push_back(cnxn);
        drop(st);
        pool.work.notify_one();
        return Ok(());
    }
    drop(st);
    let n = NEXT_WORKER.fetch_add(1, Ordering::Relaxed);
    std::thread::Builder::new()
        .name(format!("NIOWorkerThread-{}", n))
        .stack_size(CNXN_STACK_SIZE)
        .spawn(move || worker(cnxn))
        .map(|_| ())
}

/// A worker thread: connections one after another, parked in between.
fn worker(first: Arc<BlockingServerCnxn>) {
    let mut next = Some(first);
    while let Some(cnxn) = next {
        cnxn.run();
        next = pool().park();
    }
}

impl Pool {
    /// Waits for the next connection; `None` when this thread should exit
    /// (too many parked, or none came in time).
    fn park(&self) -> Option<Arc<BlockingServerCnxn>> {
        let mut st = lock(&self.state);
        if !may_park(st.parked) {
            return None;
        }
        st.parked += 1;
        let since = Instant::now();
        let mut trimmed = false;
        loop {
            if let Some(cnxn) = st.handoff.pop_front() {
                st.parked -= 1;
                return Some(cnxn);
            }
            let Some(wait) = park_wait(since.elapsed(), trimmed) else {
                st.parked -= 1;
                return None;
            };
            if wait.is_zero() {
                // Still counted as parked: a connection handed over
                // meanwhile is found on relocking.
                drop(st);
                trim_stack();
                trimmed = true;
                st = lock(&self.state);
                continue;
            }
            st = self
                .work
                .wait_timeout(st, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Waits until `fd` is readable, hung up or broken (what `recv` will then
/// report), for at most `timeout`; `Ok(false)` when the time ran out.
pub(super) fn wait_readable(fd: i32, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    let mut left = timeout;
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // Round up, so a wait never ends early.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, `nfds` 1.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n >= 0 {
            return Ok(n > 0);
        }
        let err = io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
        left = deadline.saturating_duration_since(Instant::now());
    }
}

thread_local! {
    /// The lowest page-aligned address of this thread's stack (0 until
    /// [`trim_stack`] first looks it up).
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// This thread's lowest usable stack address, page-aligned up. Out of
/// line, so that its looking up the bounds once adds nothing to the frame
/// of [`trim_stack`].
#[inline(never)]
pub(super) fn stack_low() -> Option<usize> {
    let cached = STACK_LOW.with(Cell::get);
    if cached != 0 {
        return Some(cached);
    }
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread, which
    // is destroyed right after reading the stack bounds from it.
    let base = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut base: *mut libc::c_void = std::ptr::null_mut();
        let mut size = 0usize;
        let got = libc::pthread_attr_getstack(&attr, &mut base, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if got != 0 {
            return None;
        }
        base as usize
    };
    let low = (base + 4095) & !4095;
    STACK_LOW.with(|c| c.set(low));
    Some(low)
}

/// Bytes kept below the stack pointer when trimming: the return address
/// the `madvise` call pushes and anything its stub keeps below the stack
/// pointer while the pages go (at most x86-64's 128-byte red zone; the
/// glibc stub keeps nothing). Small on purpose: connection threads all
/// have the same layout, and a margin reaching past the start of the
/// current page keeps one more page resident per idle connection.
const TRIM_MARGIN: usize = 128;

/// The calling thread's stack pointer (inlined into the caller, so it is
/// the caller's own, after its prologue).
#[inline(always)]
pub(super) fn stack_pointer() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: copies rsp into a register; touches no memory.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        Some(sp)
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: copies sp into a register; touches no memory.
        unsafe {
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        Some(sp)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        None
    }
}

/// The page-aligned end of what [`trim_stack`] gives back, for a stack
/// pointer `sp` over a stack whose lowest usable page starts at `low`:
/// every whole page at least [`TRIM_MARGIN`] bytes below `sp`; `None`
/// when there is none.
pub(super) fn trim_end(sp: usize, low: usize) -> Option<usize> {
    let end = sp.checked_sub(TRIM_MARGIN)? & !4095;
    (end > low).then_some(end)
}

/// Returns to the kernel the pages of this thread's stack below its
/// current frame, which deeper calls touched earlier; they read back as
/// zeros if used again. Only the touched pages of a thread stack count in
/// the RSS, so this is what keeps an idle connection small.
///
/// Why this is sound: the stack grows down, and every live frame (this
/// one and its callers') lies at or above the stack pointer, which is read
/// here, after this function's prologue; kept out of line, so that it is
/// this frame's own and no caller's locals sit below it. Below the
/// pointer, only the call into `madvise` is live while it runs (its return
/// address), inside the [`TRIM_MARGIN`] that stays untouched. What was
/// below belongs to calls that have returned. Signal handlers that run
/// later build their frames below the pointer on fresh zero pages. Tested
/// under optimisation (`cargo test --release`) at stack pointers all over
/// a page.
#[inline(never)]
pub(super) fn trim_stack() {
    let Some(low) = stack_low() else { return };
    let Some(sp) = stack_pointer() else { return };
    if let Some(end) = trim_end(sp, low) {
        // SAFETY: [low, end) lies in this thread's own stack mapping, at
        // least TRIM_MARGIN bytes below the stack pointer: no live frame
        // is there (see above).
        unsafe { libc::madvise(low as *mut libc::c_void, end - low, libc::MADV_DONTNEED) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_keeps_the_margin_below_the_stack_pointer() {
        let low = 0x10_0000;
        assert_eq!(trim_end(0x20_0000 + 4000, low), Some(0x20_0000));
        assert_eq!(trim_end(0x20_0000 + TRIM_MARGIN, low), Some(0x20_0000));
        assert_eq!(
            trim_end(0x20_0000 + TRIM_MARGIN - 1, low),
            Some(0x20_0000 - 4096),
            "a page less"
        );
        assert_eq!(trim_end(low + 100, low), None);
        assert_eq!(trim_end(100, 0), None);
    }

    #[test]
    fn a_connection_goes_to_a_parked_thread_only_if_one_is_free() {
        assert_eq!(place(0, 0), Placement::NewThread);
        assert_eq!(place(3, 2), Placement::Parked);
        assert_eq!(
            place(3, 3),
            Placement::NewThread,
            "all three are spoken for"
        );
    }

    #[test]
    fn parking_is_bounded() {
        assert!(may_park(0));
        assert!(may_park(MAX_PARKED - 1));
        assert!(!may_park(MAX_PARKED));
    }

    #[test]
    fn a_parked_thread_trims_after_quiet_and_leaves_after_keep() {
        assert_eq!(park_wait(Duration::ZERO, false), Some(QUIET));
        assert_eq!(
            park_wait(QUIET, false),
            Some(Duration::ZERO),
            "time to trim"
        );
        assert_eq!(park_wait(QUIET, true), Some(PARKED_KEEP - QUIET));
        assert_eq!(park_wait(PARKED_KEEP, true), None);
        assert_eq!(park_wait(PARKED_KEEP + QUIET, false), None);
    }

    #[test]
    fn wait_readable_sees_data_and_times_out_without() {
        let mut fds = [0i32; 2];
        // SAFETY: room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let started = Instant::now();
        assert!(!wait_readable(fds[0], Duration::from_millis(30)).unwrap());
        assert!(started.elapsed() >= Duration::from_millis(30));
        // SAFETY: a one-byte write from a valid buffer.
        assert_eq!(unsafe { libc::write(fds[1], [1u8].as_ptr().cast(), 1) }, 1);
        assert!(wait_readable(fds[0], Duration::from_secs(5)).unwrap());
        // SAFETY: closing descriptors this test opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn parked_threads_serve_later_connections() {
        // A handed-over connection needs a parked thread: with none, a
        // new one starts; the count never lets a connection wait unserved.
        let st = PoolState {
            parked: 1,
            handoff: VecDeque::new(),
        };
        assert_eq!(place(st.parked, st.handoff.len()), Placement::Parked);
    }
}
