//! `zk-server four-letter-word [-Dname=value ...] <host> <port> <cmd>
//! [secure]`: sends one four-letter word and prints the answer, over TLS
//! when `secure` is `true` (with the `zookeeper.ssl.*` client properties
//! given as `-D` flags, as Java's tool takes them from its JVM flags).
//! `zkServer.sh status` runs it on a secure client port.
//!
//! Runs on the caller's thread; connect and read are bounded by 5 s.
//!
//! Mirrors: `org.apache.zookeeper.client.FourLetterWordMain`.

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};

use super::client_x509_util;

/// `DEFAULT_SOCKET_TIMEOUT`: connect and each read.
const TIMEOUT: Duration = Duration::from_millis(5000);

/// The subcommand; returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let mut props = BTreeMap::new();
    let mut rest = Vec::new();
    for arg in args {
        match arg.strip_prefix("-D").and_then(|f| f.split_once('=')) {
            Some((name, value)) => {
                props.insert(name.to_string(), value.to_string());
            }
            None => rest.push(arg.as_str()),
        }
    }
    let (host, port, cmd, secure) = match rest.as_slice() {
        [host, port, cmd] => (*host, *port, *cmd, false),
        // Boolean.parseBoolean: "true" in any case, anything else false.
        [host, port, cmd, secure] => (*host, *port, *cmd, secure.eq_ignore_ascii_case("true")),
        _ => {
            eprintln!(
                "usage: zk-server four-letter-word [-Dzookeeper.ssl.*=...] <host> <port> <cmd> [secure]"
            );
            return 2;
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("not a port: {}", port);
        return 2;
    };
    let get = |name: &str| props.get(name).cloned();
    match send(host, port, cmd, secure, &get) {
        Ok(answer) => {
            println!("{}", answer);
            0
        }
        Err(e) => {
            eprintln!("Exception while executing four letter word: {}: {}", cmd, e);
            1
        }
    }
}

/// Sends `cmd` and returns the answer, each line ended by `\n` (as
/// Java's tool collects it).
pub fn send(
    host: &str,
    port: u16,
    cmd: &str,
    secure: bool,
    get: client_x509_util::Lookup,
) -> Result<String, String> {
    let addr = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: {}", host, e))?
        .next()
        .ok_or_else(|| format!("{}: no address", host))?;
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    if secure {
        let config = client_x509_util::client_config(get)?;
        let name = client_x509_util::server_name(host)?;
        let session = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut tls = StreamOwned::new(session, stream);
        tls.write_all(cmd.as_bytes())
            .and_then(|_| tls.flush())
            .map_err(|e| e.to_string())?;
        // TLS has no half-close: read until the server closes.
        read_all(&mut tls, &mut bytes)?;
    } else {
        let mut stream = stream;
        stream
            .write_all(cmd.as_bytes())
            .map_err(|e| e.to_string())?;
        let _ = stream.shutdown(Shutdown::Write);
        read_all(&mut stream, &mut bytes)?;
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(|l| format!("{}\n", l)).collect())
}

/// Reads to the end; a TLS peer that closes without close_notify ends
/// the answer too.
fn read_all(from: &mut dyn Read, into: &mut Vec<u8>) -> Result<(), String> {
    match from.read_to_end(into) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(()),
        Err(e) if is_timeout(&e) => Err(format!("no answer within {:?}", TIMEOUT)),
        Err(e) => Err(e.to_string()),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
