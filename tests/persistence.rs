//! Persistence: txn logs and snapshots written and read back, torn tails,
//! corruption, restore (snapshot + log), group commit in the
//! SyncRequestProcessor. Java interop lives in tests/interop/test_persistence.py.

mod persistence_util;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use persistence_util::*;
use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute::txn::TxnLogEntry;
use zookeeper::persistence::file_snap::SnapshotOptions;
use zookeeper::persistence::file_txn_log::{FileTxnLog, TxnLogOptions};
use zookeeper::persistence::file_txn_snap_log::DirOptions;
use zookeeper::persistence::snap_stream::StreamMode;
use zookeeper::persistence::txn_iterator::TxnIterator;
use zookeeper::persistence::Error;
use zookeeper::server::request::Request;
use zookeeper::server::request_processor::RequestProcessor;
use zookeeper::server::sync_request_processor::SyncRequestProcessor;
use zookeeper::server::zk_database::ZkDatabase;

fn read_all(dir: &Path) -> Result<Vec<TxnLogEntry>, Error> {
    TxnIterator::new(dir, 0)
        .read_only()
        .map(|t| t.map(|t| t.entry))
        .collect()
}

#[test]
fn txns_of_every_kind_round_trip_through_the_log() {
    let dir = TempDir::new("roundtrip");
    let txns = workload_txns(1, 200);
    let mut log = FileTxnLog::new(
        dir.path(),
        TxnLogOptions {
            pre_alloc_size: 64 * 1024,
            ..Default::default()
        },
    );
    for (i, t) in txns.iter().enumerate() {
        log.append(t).unwrap();
        if i % 17 == 0 {
            log.commit().unwrap();
        }
        if i == 120 {
            log.roll_log().unwrap();
        }
    }
    log.commit().unwrap();
    drop(log);
    assert_eq!(read_all(dir.path()).unwrap(), txns);
}

/// Writes `n` txns into one unpadded log and returns (file bytes, record
/// end offsets).
fn one_log(dir: &Path, n: i64) -> (Vec<u8>, Vec<u64>, Vec<TxnLogEntry>) {
    let txns = workload_txns(1, n);
    let mut log = FileTxnLog::new(
        dir,
        TxnLogOptions {
            pre_alloc_size: 0,
            ..Default::default()
        },
    );
    let mut ends = Vec::new();
    let mut offset = 16u64;
    for t in &txns {
        log.append(t).unwrap();
        offset += 13 + t.to_bytes().len() as u64;
        ends.push(offset);
    }
    log.commit().unwrap();
    drop(log);
    (fs::read(dir.join("log.1")).unwrap(), ends, txns)
}

#[test]
fn torn_tails_at_every_offset_keep_every_complete_record() {
    let src = TempDir::new("torn-src");
    let (bytes, ends, txns) = one_log(src.path(), 40);
    let dir = TempDir::new("torn");
    let path = dir.path().join("log.1");
    for cut in 16..=bytes.len() {
        let complete = ends.iter().filter(|&&e| e as usize <= cut).count();
        // A crash that cut the file short...
        fs::write(&path, &bytes[..cut]).unwrap();
        let got = read_all(dir.path()).unwrap_or_else(|e| panic!("cut at {}: {}", cut, e));
        assert_eq!(got, txns[..complete], "cut at {}", cut);
        // ...or left the pre-allocated zeros after the last write.
        let mut padded = bytes[..cut].to_vec();
        padded.resize(bytes.len() + 4096, 0);
        fs::write(&path, &padded).unwrap();
        let got =
            read_all(dir.path()).unwrap_or_else(|e| panic!("zero-padded cut at {}: {}", cut, e));
        assert_eq!(got, txns[..complete], "zero-padded cut at {}", cut);
    }
}

#[test]
fn a_flipped_byte_mid_log_names_file_and_offset() {
    let dir = TempDir::new("flip");
    let (mut bytes, ends, _) = one_log(dir.path(), 20);
    // Record 10 starts where record 9 ends; flip a byte of its payload.
    let record_start = ends[9];
    bytes[record_start as usize + 12 + 5] ^= 0x40;
    fs::write(dir.path().join("log.1"), &bytes).unwrap();
    let err = read_all(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { offset, .. } if offset == record_start),
        "{:?}",
        err
    );
    let message = err.to_string();
    assert!(message.contains("log.1"), "{}", message);
    assert!(
        message.contains(&format!("checksum mismatch at offset {}", record_start)),
        "{}",
        message
    );
}

#[test]
fn an_absurd_length_mid_log_is_corruption() {
    let dir = TempDir::new("length");
    let (mut bytes, ends, _) = one_log(dir.path(), 5);
    let at = ends[1] as usize + 8;
    bytes[at..at + 4].copy_from_slice(&0x7fff_ffffi32.to_be_bytes());
    fs::write(dir.path().join("log.1"), &bytes).unwrap();
    let message = read_all(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("log.1") && message.contains(&format!("offset {}", at)),
        "{}",
        message
    );
}

fn open_db(dir: &Path, mode: StreamMode) -> ZkDatabase {
    let snapshot = SnapshotOptions {
        mode,
        ..SnapshotOptions::default()
    };
    let log = TxnLogOptions {
        pre_alloc_size: 64 * 1024,
        ..TxnLogOptions::default()
    };
    ZkDatabase::open_dirs(dir, dir, DirOptions::default(), log, snapshot).unwrap()
}

/// Logs and applies txns as the sync + final processors would.
fn log_and_apply(db: &ZkDatabase, txns: &[TxnLogEntry]) {
    for t in txns {
        db.append(t).unwrap();
        db.process_txn(t);
    }
    db.commit().unwrap();
}

#[test]
fn restore_is_snapshot_plus_log_in_every_codec() {
    for mode in [StreamMode::Checked, StreamMode::Gzip, StreamMode::Snappy] {
        let dir = TempDir::new("restore");
        let db = open_db(dir.path(), mode);
        assert_eq!(db.load_database().unwrap(), 0);
        assert!(dir.path().join("version-2/snapshot.0").exists() || mode != StreamMode::Checked);
        let txns = workload_txns(1, 300);
        log_and_apply(&db, &txns[..150]);
        db.roll_log().unwrap();
        let snap = db.take_snapshot_file().unwrap();
        assert!(snap.to_str().unwrap().ends_with(mode.extension()));
        log_and_apply(&db, &txns[150..]);
        let expected = dump_tree(&db.tree.read());
        assert!(
            expected.len() > 60,
            "the workload built a real tree ({} nodes)",
            expected.len()
        );
        let sessions = db.sessions_with_timeouts();
        assert_eq!(sessions.len(), 1, "session B closed, A alive");
        let digest = db.tree.read().digest();
        db.close().unwrap();
        drop(db);

        let db = open_db(dir.path(), mode);
        assert_eq!(db.load_database().unwrap(), 300, "{:?}", mode);
        assert_eq!(dump_tree(&db.tree.read()), expected, "{:?}", mode);
        assert_eq!(db.sessions_with_timeouts(), sessions);
        assert_eq!(db.tree.read().digest(), digest);
    }
}

#[test]
fn a_corrupt_newest_snapshot_falls_back_to_an_older_one() {
    let dir = TempDir::new("fallback");
    let db = open_db(dir.path(), StreamMode::Checked);
    db.load_database().unwrap();
    let txns = workload_txns(1, 100);
    log_and_apply(&db, &txns[..50]);
    db.take_snapshot_file().unwrap();
    log_and_apply(&db, &txns[50..]);
    let newest = db.take_snapshot_file().unwrap();
    let expected = dump_tree(&db.tree.read());
    drop(db);
    // Damage the middle of the newest snapshot: its seal no longer matches.
    let mut bytes = fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&newest, &bytes).unwrap();
    let db = open_db(dir.path(), StreamMode::Checked);
    assert_eq!(db.load_database().unwrap(), 100);
    assert_eq!(dump_tree(&db.tree.read()), expected);
}

#[test]
fn an_unreadable_only_snapshot_stops_startup_naming_the_file() {
    let dir = TempDir::new("badsnap");
    let db = open_db(dir.path(), StreamMode::Checked);
    db.load_database().unwrap();
    drop(db);
    let snap = dir.path().join("version-2/snapshot.0");
    let mut bytes = fs::read(&snap).unwrap();
    bytes[40] ^= 0xff;
    fs::write(&snap, &bytes).unwrap();
    let db = open_db(dir.path(), StreamMode::Checked);
    let message = db.load_database().unwrap_err().to_string();
    assert!(
        message.contains("snapshot.0") && message.contains("offset"),
        "{}",
        message
    );
}

#[test]
fn a_truncated_only_snapshot_beside_logs_is_named_in_the_refusal() {
    let dir = TempDir::new("cutsnap");
    let db = open_db(dir.path(), StreamMode::Checked);
    db.load_database().unwrap();
    log_and_apply(&db, &workload_txns(1, 20));
    drop(db);
    // Cut off the trailer: the quick check no longer sees a snapshot.
    let snap = dir.path().join("version-2/snapshot.0");
    let bytes = fs::read(&snap).unwrap();
    fs::write(&snap, &bytes[..bytes.len() - 3]).unwrap();
    let db = open_db(dir.path(), StreamMode::Checked);
    let err = db.load_database().unwrap_err();
    assert!(
        matches!(&err, Error::NoSnapshotButLogs { invalid, .. } if invalid == &vec![snap.clone()]),
        "{:?}",
        err
    );
    assert!(err.to_string().contains("snapshot.0"), "{}", err);
}

#[test]
fn logs_without_a_snapshot_need_trust_empty() {
    let dir = TempDir::new("trust");
    let txns = workload_txns(1, 20);
    fs::create_dir_all(dir.path().join("version-2")).unwrap();
    let mut log = FileTxnLog::new(&dir.path().join("version-2"), TxnLogOptions::default());
    for t in &txns {
        log.append(t).unwrap();
    }
    log.commit().unwrap();
    drop(log);
    let db = open_db(dir.path(), StreamMode::Checked);
    assert!(matches!(
        db.load_database(),
        Err(Error::NoSnapshotButLogs { .. })
    ));
    let trusting = DirOptions {
        trust_empty_snapshot: true,
        ..DirOptions::default()
    };
    let db = ZkDatabase::open_dirs(
        dir.path(),
        dir.path(),
        trusting,
        TxnLogOptions::default(),
        SnapshotOptions::default(),
    )
    .unwrap();
    assert_eq!(db.load_database().unwrap(), 20);
}

#[test]
fn separate_log_dir_refuses_snapshots_in_it() {
    let data = TempDir::new("mixed-data");
    let logs = TempDir::new("mixed-logs");
    fs::create_dir_all(logs.path().join("version-2")).unwrap();
    fs::write(logs.path().join("version-2/snapshot.0"), b"x").unwrap();
    let r = ZkDatabase::open_dirs(
        logs.path(),
        data.path(),
        DirOptions::default(),
        TxnLogOptions::default(),
        SnapshotOptions::default(),
    );
    assert!(matches!(r, Err(Error::DataDir(_))));
}

/// What the recorder saw of one request: its type, its zxid, and whether
/// the txn was already readable from the log.
type Seen = (i32, Option<i64>, bool);

/// The next stage of the pipeline, recording what it sees and whether the
/// txn was already readable from the log at that moment; it applies each
/// txn to the tree as the final processor would, so the background
/// snapshot has something new to write.
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    log_dir: std::path::PathBuf,
    db: Arc<ZkDatabase>,
}

impl RequestProcessor for Recorder {
    fn process_request(&mut self, request: Request) {
        let on_disk = match request.zxid() {
            Some(z) => TxnIterator::new(&self.log_dir, z)
                .read_only()
                .filter_map(|t| t.ok())
                .any(|t| t.zxid() == z),
            None => true,
        };
        self.seen
            .lock()
            .unwrap()
            .push((request.cxid, request.zxid(), on_disk));
        if let Some(txn) = &request.txn {
            self.db.process_txn(txn);
        }
    }
    fn shutdown(&mut self) {
        self.seen.lock().unwrap().push((-1, None, true));
    }
}

#[test]
fn sync_processor_commits_before_handing_on_and_keeps_order() {
    let dir = TempDir::new("sync");
    let db = Arc::new(open_db(dir.path(), StreamMode::Checked));
    db.load_database().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let next = Recorder {
        seen: Arc::clone(&seen),
        log_dir: dir.path().join("version-2"),
        db: Arc::clone(&db),
    };
    let mut config = ServerConfig::with_defaults(dir.path(), "127.0.0.1:0".parse().unwrap());
    config.snap_count = 40;
    let mut sync = SyncRequestProcessor::start(Arc::clone(&db), &config, Box::new(next));
    let txns = workload_txns(1, 100);
    let mut expected = Vec::new();
    for (i, t) in txns.into_iter().enumerate() {
        // A read after every third write.
        if i % 3 == 0 {
            let read = Request::new(None, 1, 10_000 + i as i32, 4, Vec::new(), Vec::new());
            expected.push(10_000 + i as i32);
            sync.process_request(read);
        }
        let mut req = Request::new(
            None,
            t.header.client_id,
            i as i32,
            t.header.r#type,
            Vec::new(),
            Vec::new(),
        );
        req.txn = Some(t);
        expected.push(i as i32);
        sync.process_request(req);
        // In rounds of 10, so the tree has moved on from zxid 0 when a
        // background snapshot starts (else it would rewrite snapshot.0).
        if i % 10 == 9 {
            wait_until(
                || seen.lock().unwrap().len() == expected.len(),
                "the sync thread to hand on a round",
            );
        }
    }
    sync.shutdown();
    let seen = seen.lock().unwrap();
    let order: Vec<i32> = seen.iter().map(|s| s.0).collect();
    expected.push(-1);
    assert_eq!(
        order, expected,
        "requests reach the next stage in order, shutdown last"
    );
    assert!(
        seen.iter().all(|s| s.2),
        "every txn was in the log before the next stage saw it"
    );
    // snapCount 40: the log rolled at least once (on the sync thread, so
    // already) and a snapshot of a later zxid than snapshot.0 was written
    // (on its own thread, so wait for it).
    let version_dir = dir.path().join("version-2");
    assert!(count_files(&version_dir, "log.") >= 2, "the log rolled");
    wait_until(
        || count_files(&version_dir, "snapshot.") >= 2,
        "a background snapshot",
    );
    assert_eq!(read_all(&version_dir).unwrap().len(), 100);
}

/// Polls `done` for up to 30 s; fails naming `what` was awaited.
fn wait_until(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", what);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How many files in `dir` start with `prefix`.
fn count_files(dir: &Path, prefix: &str) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(prefix)
        })
        .count()
}

/// The writer side of the fuzzy-snapshot test: txn `i` of an endless
/// stream under /w (creates with Prep's parent cversion, deletes of
/// earlier children, setData of /w), numbered from `first_zxid`.
fn writer_txn(first_zxid: i64, i: i64) -> TxnLogEntry {
    use zookeeper::jute::txn::{CreateTxn, DeleteTxn, SetDataTxn, TxnBody, TxnHeader};
    let zxid = first_zxid + i;
    let n = i / 3;
    let (ty, body) = match i % 3 {
        0 => (
            1,
            TxnBody::Create(CreateTxn {
                path: format!("/w/n{:06}", n),
                data: Some(vec![7; 16]),
                acl: open_acl(),
                ephemeral: false,
                parent_c_version: n as i32 + 1,
            }),
        ),
        1 => (
            5,
            TxnBody::SetData(SetDataTxn {
                path: "/w".into(),
                data: Some(zxid.to_be_bytes().to_vec()),
                version: n as i32 + 1,
            }),
        ),
        _ if n % 2 == 0 => (
            2,
            TxnBody::Delete(DeleteTxn {
                path: format!("/w/n{:06}", n),
            }),
        ),
        _ => (
            2,
            TxnBody::Delete(DeleteTxn {
                path: format!("/w/n{:06}", n - 1),
            }),
        ),
    };
    let header = TxnHeader {
        client_id: 0x55,
        cxid: i as i32,
        zxid,
        time: 1_700_000_100_000 + i,
        r#type: ty,
    };
    TxnLogEntry {
        header,
        body,
        digest: None,
    }
}

#[test]
fn a_snapshot_taken_while_writes_go_on_restores_to_the_same_tree() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use zookeeper::jute::txn::{CreateTxn, TxnBody, TxnHeader};
    let dir = TempDir::new("fuzzy");
    let db = Arc::new(open_db(dir.path(), StreamMode::Gzip));
    db.load_database().unwrap();
    let mut setup = workload_txns(1, 30_000);
    setup.pop(); // keep session B and its ephemerals
    let first = setup.len() as i64 + 1;
    setup.push(TxnLogEntry {
        header: TxnHeader {
            client_id: 0x55,
            cxid: 0,
            zxid: first,
            time: 1_700_000_050_000,
            r#type: 1,
        },
        body: TxnBody::Create(CreateTxn {
            path: "/w".into(),
            data: None,
            acl: open_acl(),
            ephemeral: false,
            parent_c_version: -1,
        }),
        digest: None,
    });
    log_and_apply(&db, &setup);
    db.roll_log().unwrap();

    let applied = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, applied, stop) = (Arc::clone(&db), Arc::clone(&applied), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) || i < 30 {
                log_and_apply(&db, &[writer_txn(first + 1, i)]);
                i += 1;
                applied.store(i, Ordering::SeqCst);
            }
        })
    };
    while applied.load(Ordering::SeqCst) < 10 {
        std::thread::yield_now();
    }
    let at_start = applied.load(Ordering::SeqCst);
    let snap = db.take_snapshot_file().unwrap();
    let during = applied.load(Ordering::SeqCst) - at_start;
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    // Writes went on while the snapshot was written (one read lock for the
    // whole walk would have let at most one txn through).
    assert!(
        during > 2,
        "only {} txns applied during the snapshot",
        during
    );

    let expected = dump_tree(&db.tree.read());
    let (digest, sessions) = (db.tree.read().digest(), db.sessions_with_timeouts());
    let last = db.last_processed_zxid();
    db.close().unwrap();
    drop(db);
    // Restore starts from the fuzzy snapshot (the newest) and replays.
    let db = open_db(dir.path(), StreamMode::Gzip);
    assert_eq!(db.load_database().unwrap(), last);
    assert_eq!(db.last_snapshot(), Some(snap));
    assert_eq!(dump_tree(&db.tree.read()), expected);
    assert_eq!(db.tree.read().digest(), digest);
    assert_eq!(db.sessions_with_timeouts(), sessions);
    assert_eq!(db.tree.read().digest_mismatches(), 0);
}
