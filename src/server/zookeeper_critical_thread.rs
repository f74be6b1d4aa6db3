//! Threads the server cannot live without: a panic on one stops the
//! process, with a log line naming the thread and exit code 1, instead of
//! leaving a process that answers pings but no longer makes progress.
//!
//! Java twin: `ZooKeeperCriticalThread` (its `handleException` logs
//! "Severe unrecoverable error, from thread : <name>" and stops the server
//! with `ExitCode.UNEXPECTED_ERROR`, 1).
//!
//! A thread becomes critical with [`mark`] (for its whole life: the
//! SyncThread, the Prep thread, the CommitProcessor, the SessionTracker,
//! the quorum peer's loop, which runs the leader's and the learners'
//! loops, the leader's learner acceptor), or for a while with [`section`] (Prep run inline on a
//! connection thread). The process-wide panic hook ([`install`], from
//! `main`) checks the panicking thread's mark after the usual report.
//! A critical loop that ends without being asked to calls [`exit`].

use std::cell::Cell;

use log::error;

/// `ExitCode.UNEXPECTED_ERROR`.
pub const EXIT_UNEXPECTED_ERROR: i32 = 1;

thread_local! {
    /// How many marks and open sections this thread has.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Makes the calling thread critical until it ends.
pub fn mark() {
    DEPTH.with(|d| d.set(d.get() + 1));
}

/// The calling thread is critical while the returned guard lives.
pub fn section() -> Section {
    mark();
    Section(())
}

/// See [`section`].
pub struct Section(());

impl Drop for Section {
    fn drop(&mut self) {
        // While unwinding from a panic the hook has already exited.
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// True when the calling thread is critical now.
pub fn is_critical() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Installs the panic hook (once, at startup): the usual report, then,
/// on a critical thread, the log line and the exit.
pub fn install() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        if is_critical() {
            exit(&format!("{}", info));
        }
    }));
}

/// Stops the process: a critical thread failed (`what` says how).
pub fn exit(what: &str) -> ! {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    error!(
        "Severe unrecoverable error, from thread : {}: {}",
        name, what
    );
    error!(
        "Exiting with code {} (UNEXPECTED_ERROR)",
        EXIT_UNEXPECTED_ERROR
    );
    log::logger().flush();
    std::process::exit(EXIT_UNEXPECTED_ERROR);
}
