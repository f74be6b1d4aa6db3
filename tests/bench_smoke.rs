//! Smoke run of `zk-bench`: every workload for about a second against our
//! own server (a `zk-server` process on a temporary dataDir), checking
//! only that each completes, exits 0 and reports no errors. No timing is
//! asserted: figures come from `scripts/bench.sh`, never from the tests.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BENCH: &str = env!("CARGO_BIN_EXE_zk-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_zk-server");

/// Timed workloads: short, small.
const TIMED: &str = "--duration 1 --warmup 0.2";

#[path = "port_util.rs"]
mod port_util;

use port_util::free_port;

/// A temporary directory with a zoo.cfg, removed on drop.
struct Dir {
    path: PathBuf,
    port: u16,
}

impl Dir {
    fn new(name: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("zkrs-bench-smoke-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("data")).unwrap();
        let port = free_port();
        let cfg = format!(
            "tickTime=2000\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
            path.join("data").display(),
            port
        );
        std::fs::write(path.join("zoo.cfg"), cfg).unwrap();
        Dir { path, port }
    }

    fn cfg(&self) -> PathBuf {
        self.path.join("zoo.cfg")
    }

    fn server_cmd(&self) -> String {
        format!("{} {}", SERVER, self.cfg().display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if thread::panicking() {
            // The server's log tells why a workload failed.
            eprintln!("kept {} (server.log)", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Starts zk-server on the directory's config; waits for the port.
fn start(dir: &Dir) -> Child {
    let log = std::fs::File::create(dir.path.join("server.log")).unwrap();
    let child = Command::new(SERVER)
        .arg(dir.cfg())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", dir.port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "zk-server did not listen; see {}",
            dir.path.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
    child
}

/// SIGTERM and wait, so the dataDir is complete for `recover`.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs zk-bench and checks its exit status and JSON line.
fn bench(workload: &str, flags: &str, port: u16, extra: &[&str]) {
    let mut args: Vec<String> = vec![workload.into()];
    args.extend(flags.split_whitespace().map(String::from));
    args.extend(["--server".into(), format!("127.0.0.1:{}", port)]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(BENCH).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "zk-bench {:?} failed:\n{}\n{}",
        args,
        stdout,
        stderr
    );
    let json = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line:\n{}", stdout));
    // zk-bench prints the first failure of each kind on stderr.
    assert!(
        json.contains("\"errors\":0"),
        "{}: {}\n{}",
        workload,
        json,
        stderr
    );
    assert!(
        !json.contains("\"ops\":0,"),
        "{} did nothing: {}",
        workload,
        json
    );
}

fn pid_flag(child: &Child) -> [String; 2] {
    ["--pid".into(), child.id().to_string()]
}

#[test]
fn every_workload_completes_without_errors() {
    let dir = Dir::new("main");
    let server = start(&dir);
    let pid = pid_flag(&server);
    let pid: Vec<&str> = pid.iter().map(String::as_str).collect();
    let keyed = format!(
        "--sessions 2 --inflight 4 --keys 20 --payload 100 {}",
        TIMED
    );
    for workload in ["create", "set", "get", "exists", "mixed"] {
        bench(workload, &keyed, dir.port, &pid);
    }
    bench(
        "get",
        &format!("--sessions 1 --inflight 1 --keys 5 {}", TIMED),
        dir.port,
        &pid,
    );
    bench(
        "watch",
        &format!("--watchers 3 --nodes 2 --inflight 2 --payload 8 {}", TIMED),
        dir.port,
        &pid,
    );
    bench(
        "connect",
        &format!("--sessions 2 {}", TIMED),
        dir.port,
        &pid,
    );
    bench("sessions", "--count 40 --sessions 4", dir.port, &pid);
    // Every idle session drops its connection and re-attaches (errors
    // count the ones not back).
    bench(
        "reattach",
        "--count 60 --sessions 2 --payload 16 --warmup 1 --timeout 30 --backoff 200",
        dir.port,
        &pid,
    );
    bench(
        "load",
        "--count 2000 --batch 50 --sessions 2 --inflight 2 --payload 16",
        dir.port,
        &pid,
    );
    stop(server);

    let cmd = dir.server_cmd();
    bench("recover", "--timeout 30", dir.port, &["--server-cmd", &cmd]);

    let empty = Dir::new("startup");
    let cmd = empty.server_cmd();
    bench(
        "startup",
        "--timeout 30",
        empty.port,
        &["--server-cmd", &cmd],
    );
    assert!(Path::new(&empty.path).join("data").exists());
}

/// Runs `openssl` with `args` in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("openssl is needed for the TLS smoke run");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The TLS mode (`--tls-truststore`, `--tls-keystore`) against our secure
/// client port with a required client certificate, PEM stores. Pipelined
/// 1 KiB creates fill more than one 16 KiB TLS record per read, which
/// once broke the server's TLS reader.
#[test]
fn tls_workloads_complete_without_errors() {
    let dir = Dir::new("tls");
    let d = dir.path.as_path();
    std::fs::write(d.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        d,
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=ca -days 2",
    );
    for who in ["server", "client"] {
        openssl(
            d,
            &format!(
                "req -newkey rsa:2048 -nodes -keyout {who}.key -out {who}.csr -subj /CN={who}"
            ),
        );
        openssl(d, &format!("x509 -req -in {who}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out {who}.pem -days 2 -extfile {who}.ext"));
        let key = std::fs::read(d.join(format!("{who}.key"))).unwrap();
        let cert = std::fs::read(d.join(format!("{who}.pem"))).unwrap();
        std::fs::write(d.join(format!("{who}-store.pem")), [key, cert].concat()).unwrap();
    }
    let secure = free_port();
    let mut cfg = std::fs::read_to_string(dir.cfg()).unwrap();
    cfg.push_str(&format!(
        "secureClientPort={}\nsecureClientPortAddress=127.0.0.1\nssl.keyStore.location={}\nssl.trustStore.location={}\n",
        secure,
        d.join("server-store.pem").display(),
        d.join("ca.pem").display()
    ));
    std::fs::write(dir.cfg(), cfg).unwrap();
    let server = start(&dir);
    let trust = d.join("ca.pem").display().to_string();
    let keys = d.join("client-store.pem").display().to_string();
    let tls = ["--tls-truststore", &trust, "--tls-keystore", &keys];
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", secure)).is_err() {
        assert!(Instant::now() < deadline, "no secure port");
        thread::sleep(Duration::from_millis(20));
    }
    let pipelined = format!(
        "--sessions 2 --inflight 32 --keys 20 --payload 1024 {}",
        TIMED
    );
    for workload in ["create", "get"] {
        bench(workload, &pipelined, secure, &tls);
    }
    bench("connect", &format!("--sessions 2 {}", TIMED), secure, &tls);
    bench("sessions", "--count 40 --sessions 4", secure, &tls);
    stop(server);
}
