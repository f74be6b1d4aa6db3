//! Helpers of the quorum tests: an ensemble of our `zk-server` processes
//! on loopback, each with its own dataDir (optionally pre-seeded with txns
//! and epoch files), asked for its mode with `srvr`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "persistence_util.rs"]
mod persistence_util;

use zookeeper::persistence::file_txn_log::{FileTxnLog, TxnLogOptions};

pub use persistence_util::TempDir;

#[path = "port_util.rs"]
mod port_util;

pub use port_util::free_port;

/// One member: ports, dataDir, process.
pub struct Peer {
    pub sid: i64,
    pub client_port: u16,
    pub quorum_port: u16,
    pub election_port: u16,
    pub dir: PathBuf,
    pub child: Option<Child>,
}

impl Peer {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `Mode:` of `srvr`, "looking" when not serving, "down" when closed.
    pub fn mode(&self) -> String {
        match four_letter(self.client_port, "srvr") {
            Ok(text) => text
                .lines()
                .find_map(|l| l.strip_prefix("Mode: ").map(str::to_string))
                .unwrap_or_else(|| "looking".to_string()),
            Err(_) => "down".to_string(),
        }
    }
}

/// Sends a four-letter word and reads the whole answer.
pub fn four_letter(port: u16, word: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(word.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// An ensemble of our servers.
pub struct Ensemble {
    pub root: TempDir,
    pub peers: Vec<Peer>,
    /// (initLimit, syncLimit) in ticks of 200 ms.
    limits: (u32, u32),
}

impl Ensemble {
    /// `n` participants with sids 1..=n (not started).
    pub fn new(name: &str, n: usize) -> Ensemble {
        let root = TempDir::new(name);
        let peers = (1..=n as i64)
            .map(|sid| {
                let dir = root.path().join(format!("s{}", sid));
                std::fs::create_dir_all(dir.join("data")).unwrap();
                std::fs::write(dir.join("data").join("myid"), sid.to_string()).unwrap();
                Peer {
                    sid,
                    client_port: free_port(),
                    quorum_port: free_port(),
                    election_port: free_port(),
                    dir,
                    child: None,
                }
            })
            .collect();
        let ensemble = Ensemble {
            root,
            peers,
            limits: (5, 2),
        };
        ensemble.write_configs();
        ensemble
    }

    /// Other initLimit and syncLimit (ticks of 200 ms; 5 and 2 unless
    /// told). A test about who leads wants room: on a loaded machine a
    /// peer stalled for longer than tickTime × syncLimit (400 ms) loses
    /// its leader or its quorum, and the next election muddles the count.
    pub fn with_limits(mut self, init: u32, sync: u32) -> Ensemble {
        self.limits = (init, sync);
        self.write_configs();
        self
    }

    fn write_configs(&self) {
        let servers: String = self
            .peers
            .iter()
            .map(|p| {
                format!(
                    "server.{}=127.0.0.1:{}:{}\n",
                    p.sid, p.quorum_port, p.election_port
                )
            })
            .collect();
        for p in &self.peers {
            let cfg = format!(
                "tickTime=200\ninitLimit={}\nsyncLimit={}\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n4lw.commands.whitelist=*\nsnapshot.trust.empty=true\n\
                 cnxTimeout=1000\nfastleader.maxNotificationInterval=800\n{}",
                self.limits.0,
                self.limits.1,
                p.data_dir().display(),
                p.client_port,
                servers
            );
            std::fs::write(p.dir.join("zoo.cfg"), cfg).unwrap();
        }
    }

    pub fn peer(&self, sid: i64) -> &Peer {
        &self.peers[(sid - 1) as usize]
    }

    /// Writes `n` txns of epoch `epoch` into the peer's txn log.
    pub fn seed_txns(&self, sid: i64, epoch: i64, n: i64) {
        let dir = self.peer(sid).data_dir().join("version-2");
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = FileTxnLog::new(
            &dir,
            TxnLogOptions {
                pre_alloc_size: 0,
                ..Default::default()
            },
        );
        for entry in persistence_util::workload_txns((epoch << 32) + 1, n) {
            log.append(&entry).unwrap();
        }
        log.commit().unwrap();
        log.close().unwrap();
    }

    /// Writes the epoch files of a peer.
    pub fn seed_epochs(&self, sid: i64, current: i64, accepted: i64) {
        let dir = self.peer(sid).data_dir().join("version-2");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("currentEpoch"), current.to_string()).unwrap();
        std::fs::write(dir.join("acceptedEpoch"), accepted.to_string()).unwrap();
    }

    pub fn start(&mut self, sid: i64) {
        let p = &mut self.peers[(sid - 1) as usize];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p.log_path())
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
            .arg(p.dir.join("zoo.cfg"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        p.child = Some(child);
    }

    pub fn start_all(&mut self) {
        for sid in 1..=self.peers.len() as i64 {
            self.start(sid);
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self, sid: i64) {
        if let Some(mut c) = self.peers[(sid - 1) as usize].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits until the peer answers on its client port (it has read its
    /// dataDir and is looking or serving).
    pub fn await_up(&self, sid: i64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.peer(sid).mode() == "down" {
            assert!(
                Instant::now() < deadline,
                "peer {} never answered:\n{}",
                sid,
                tail(&self.peer(sid).log(), 80)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The one leader among `sids` once all of them serve (the others
    /// following); panics with the logs after `timeout`.
    pub fn await_some_leader(&self, sids: &[i64], timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        let mut last = Vec::new();
        while Instant::now() < deadline {
            last = self.modes(sids);
            let leaders: Vec<i64> = sids
                .iter()
                .zip(&last)
                .filter(|(_, m)| *m == "leader")
                .map(|(s, _)| *s)
                .collect();
            let following = last.iter().filter(|m| *m == "follower").count();
            if leaders.len() == 1 && following == sids.len() - 1 {
                return leaders[0];
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "no single leader among {:?}, modes {:?}\n{}",
            sids,
            last,
            self.logs(sids)
        );
    }

    /// The tails of the peers' logs.
    pub fn logs(&self, sids: &[i64]) -> String {
        sids.iter()
            .map(|s| {
                format!(
                    "---- log of {} ----\n{}\n",
                    s,
                    tail(&self.peer(*s).log(), 80)
                )
            })
            .collect()
    }

    /// Modes of the given peers, in order.
    pub fn modes(&self, sids: &[i64]) -> Vec<String> {
        sids.iter().map(|s| self.peer(*s).mode()).collect()
    }

    /// Waits until `sids` report `leader` as the only leader and everyone
    /// else following; panics with the logs after `timeout`.
    pub fn await_leader(&self, sids: &[i64], leader: i64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let expected: Vec<String> = sids
            .iter()
            .map(|s| if *s == leader { "leader" } else { "follower" }.to_string())
            .collect();
        let mut last = Vec::new();
        while Instant::now() < deadline {
            last = self.modes(sids);
            if last == expected {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "expected leader {} among {:?}, modes {:?}\n{}",
            leader,
            sids,
            last,
            self.logs(sids)
        );
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        for sid in 1..=self.peers.len() as i64 {
            self.kill(sid);
        }
    }
}

/// The last `n` lines, leaving out the `srvr` polls of `await_leader`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("Processing srvr command"))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Counts lines containing `needle`.
pub fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
