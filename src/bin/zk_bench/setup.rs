//! Preparing the tree before a measurement: parent znodes, the keys that
//! get/set/exists read, unique prefixes for repeated runs.
//!
//! Runs on the main thread over one session, pipelined so that even
//! thousands of setup znodes take little time. Nothing here is measured.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use zookeeper::jute::proto::SetDataRequest;
use zookeeper::jute::{self, OutputArchive};
use zookeeper::keeper_exception::Code;
use zookeeper::zoo_defs::op_code;

use crate::client::{open_acl, push_encoded, write_create, Session};
use crate::error::BenchError;

/// Requests kept in flight while setting up.
const SETUP_WINDOW: usize = 256;

/// Where the keys of get/set/exists/mixed live.
pub const KEYS_ROOT: &str = "/bench";

/// The path of key `i`.
pub fn key_path(i: usize) -> String {
    format!("{}/k{}", KEYS_ROOT, i)
}

/// A prefix no earlier run used (for `create`), e.g. `r18c2f...`.
pub fn unique_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("r{:x}{:x}", nanos, std::process::id())
}

/// The body of a CreateRequest (persistent, open ACL).
pub fn create_body(path: &str, data: &[u8]) -> Vec<u8> {
    let acl = open_acl();
    let mut out = Vec::new();
    let mut oa = OutputArchive::new(&mut out);
    write_create(&mut oa, path, data, &acl, 0).expect("writing to a Vec cannot fail");
    out
}

/// Sends every request with up to [`SETUP_WINDOW`] in flight; returns
/// the result codes in request order.
pub fn pipelined<I>(session: &mut Session, requests: I) -> Result<Vec<i32>, BenchError>
where
    I: IntoIterator<Item = (i32, Vec<u8>)>,
{
    let mut requests = requests.into_iter();
    let mut results = Vec::new();
    let mut pending = VecDeque::new();
    let mut out = Vec::new();
    loop {
        out.clear();
        while pending.len() < SETUP_WINDOW {
            let Some((op, body)) = requests.next() else {
                break;
            };
            let xid = session.xid();
            push_encoded(&mut out, xid, op, &body);
            pending.push_back(xid);
        }
        if pending.is_empty() {
            return Ok(results);
        }
        session.send(&out)?;
        session.fill()?;
        while let Some(reply) = session.reader.next_reply()? {
            if reply.xid < 0 {
                continue;
            }
            if pending.pop_front() != Some(reply.xid) {
                return Err(BenchError::Protocol(format!(
                    "setup reply xid {} out of order",
                    reply.xid
                )));
            }
            results.push(reply.err);
        }
    }
}

/// Creates each path that does not exist yet (parents first).
pub fn ensure_paths(session: &mut Session, paths: &[String]) -> Result<(), BenchError> {
    let creates = paths.iter().map(|p| (op_code::CREATE, create_body(p, b"")));
    let results = pipelined(session, creates)?;
    for (path, err) in paths.iter().zip(results) {
        if err != 0 && err != Code::NodeExists as i32 {
            return Err(BenchError::Server {
                what: format!("create {}", path),
                err,
            });
        }
    }
    Ok(())
}

/// Makes `/bench/k0..k{keys}` hold `payload` bytes each (created, or set
/// when an earlier run left them).
pub fn fill_keys(session: &mut Session, keys: usize, payload: &[u8]) -> Result<(), BenchError> {
    ensure_paths(session, &[KEYS_ROOT.to_string()])?;
    let creates = (0..keys).map(|i| (op_code::CREATE, create_body(&key_path(i), payload)));
    let results = pipelined(session, creates)?;
    let existing: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, err)| **err == Code::NodeExists as i32)
        .map(|(i, _)| i)
        .collect();
    if let Some((i, err)) = results
        .iter()
        .enumerate()
        .find(|(_, e)| **e != 0 && **e != Code::NodeExists as i32)
    {
        return Err(BenchError::Server {
            what: format!("create {}", key_path(i)),
            err: *err,
        });
    }
    let sets = existing.iter().map(|&i| {
        let request = SetDataRequest {
            path: key_path(i),
            data: Some(payload.to_vec()),
            version: -1,
        };
        (op_code::SET_DATA, jute::to_bytes(&request))
    });
    let results = pipelined(session, sets)?;
    match results.iter().find(|e| **e != 0) {
        Some(err) => Err(BenchError::Server {
            what: "setData on a key".into(),
            err: *err,
        }),
        None => Ok(()),
    }
}

/// A payload of `len` bytes (a repeating printable pattern).
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}
