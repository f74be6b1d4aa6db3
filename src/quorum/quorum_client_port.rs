//! The client port of a quorum peer until Zab lands: four-letter words only.
//! `ruok` answers `imok`; `srvr`/`stat` report the peer's mode (`leader`,
//! `follower`, `observer`) once elected, and Java's "not currently
//! serving" line while looking; other whitelisted words answer nothing
//! yet. Client sessions are refused (the connection is closed), as a
//! Java peer that is not serving does.
//!
//! Threads: one accept thread, one short-lived thread per connection.
//!
//! Mirrors: the four-letter-word path of `NIOServerCnxn.checkFourLetterWord`
//! with `StatCommand` / `RuokCommand` for a quorum peer.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use log::{debug, info, warn};

use super::quorum_peer::QuorumPeer;
use super::vote::ServerState;
use crate::server::command::{self, FourLetterWord};
use crate::server::zk_database::ZkDatabase;

/// How long a client may take to send its first four bytes.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(5);

/// What `srvr` reports.
pub struct ClientPortState {
    /// The peer (its state is the mode).
    pub peer: Arc<QuorumPeer>,
    /// The database (node count, last zxid).
    pub db: Arc<ZkDatabase>,
    /// The parsed `4lw.commands.whitelist`.
    pub whitelist: Vec<String>,
    /// Open client connections (for `Connections:`).
    open: AtomicUsize,
}

impl ClientPortState {
    /// State for a peer.
    pub fn new(peer: Arc<QuorumPeer>, db: Arc<ZkDatabase>, whitelist: Vec<String>) -> Arc<Self> {
        Arc::new(ClientPortState { peer, db, whitelist, open: AtomicUsize::new(0) })
    }
}

/// Binds the client port and starts the accept thread; returns the bound
/// address.
pub fn start(addr: SocketAddr, state: Arc<ClientPortState>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    info!("binding to port {} (four-letter words only until Zab lands)", local);
    thread::Builder::new().name(format!("QuorumClientPort-{}", local.port())).spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let state = state.clone();
            let spawned = thread::Builder::new().name("QuorumClientCnxn".into()).spawn(move || {
                state.open.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = serve(&stream, &state) {
                    debug!("client connection: {}", e);
                }
                state.open.fetch_sub(1, Ordering::SeqCst);
            });
            if let Err(e) = spawned {
                warn!("cannot start a client connection thread: {}", e);
            }
        }
    })?;
    Ok(local)
}

fn serve(mut stream: &TcpStream, state: &ClientPortState) -> io::Result<()> {
    stream.set_read_timeout(Some(FIRST_BYTES_TIMEOUT))?;
    let mut first = [0u8; 4];
    stream.read_exact(&mut first)?;
    let word = FourLetterWord::from_code(i32::from_be_bytes(first));
    let text = match word {
        Some(word) if word != FourLetterWord::TelnetClose => answer(word, state),
        _ => {
            debug!("Closing client connection: not serving client sessions yet (quorum mode without Zab)");
            None
        }
    };
    if let Some(text) = text {
        stream.write_all(text.as_bytes())?;
        stream.flush()?;
    }
    stream.shutdown(std::net::Shutdown::Both)
}

/// The answer to a four-letter word, `None` to close silently.
fn answer(word: FourLetterWord, state: &ClientPortState) -> Option<String> {
    if !command::is_enabled(word, &state.whitelist) {
        return Some(format!("{} is not executed because it is not in the whitelist.\n", word.name()));
    }
    match word {
        FourLetterWord::Ruok => Some("imok".to_string()),
        FourLetterWord::Srvr | FourLetterWord::Stat => Some(srvr_text(word == FourLetterWord::Stat, state)),
        _ => None,
    }
}

/// `srvr`/`stat` as `StatCommand` prints it for a quorum peer.
fn srvr_text(with_clients: bool, state: &ClientPortState) -> String {
    let peer_state = state.peer.state();
    let Some(mode) = peer_state.mode_name() else {
        return format!("{}\n", command::ZK_NOT_SERVING);
    };
    let mut out = format!("Zookeeper version: {}\n", command::full_version());
    if with_clients {
        out.push_str("Clients:\n\n");
    }
    let node_count = state.db.tree.read().node_count();
    out.push_str(&format!(
        "Latency min/avg/max: 0/0.0/0\nReceived: 0\nSent: 0\nConnections: {}\nOutstanding: 0\nZxid: 0x{:x}\nMode: {}\nNode count: {}\n",
        state.open.load(Ordering::SeqCst),
        state.peer.last_logged_zxid(),
        mode,
        node_count
    ));
    if peer_state == ServerState::Leading {
        out.push_str("Proposal sizes last/min/max: -1/-1/-1\n");
    }
    out
}
