"""Fixtures for the interop suite: start Java's or our ZooKeeper server.

A server gets a fresh temp dir (zoo.cfg, data/, server.log), free ports, and
is ready when `ruok` answers `imok` and `srvr` shows a Mode line (Java answers
ruok before it serves sessions).  It is stopped with SIGTERM, then SIGKILL.
Logs stay in pytest's temp dir (kept for the last 3 runs) and the tail of
every running server's log is attached to a failing test's report.

Every test that takes the `impl` fixture runs once per implementation named
in the environment variable ZK_IMPLS (default "java,rust"; Java always runs
first so that Rust results can be compared with Java results recorded in the
same session, see `crosscheck`).

Environment:
  ZK_IMPLS      comma list of implementations to test (java, rust)
  ZK_RUST_BIN   path of our server binary (default <repo>/target/release/zk-server)
  CI=true       a missing prerequisite (Rust binary, Java, kazoo, gcc...) is a
                failure instead of a skip
  ZK_INTEROP_DUMP=<file>  write the values Java produced for `crosscheck`

With ZK_IMPLS=rust alone, Java still serves as the zkCli oracle, but the
`crosscheck` comparisons have nothing to compare with and are skipped.
"""

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent.parent
CI = os.environ.get("CI", "").lower() == "true"
JAVA_LIB = Path("/usr/share/java")
ZK_JAR = JAVA_LIB / "zookeeper.jar"
ZKCLI = Path("/usr/share/zookeeper/bin/zkCli.sh")
RUST_BIN = Path(os.environ.get("ZK_RUST_BIN") or REPO / "target" / "release" / "zk-server")

# Lean JVM settings: the machine running this is small and shared.
JVM_FLAGS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Djava.net.preferIPv4Stack=true"]


def _impls():
    names = [s.strip() for s in os.environ.get("ZK_IMPLS", "java,rust").split(",") if s.strip()]
    for n in names:
        if n not in ("java", "rust"):
            raise pytest.UsageError("ZK_IMPLS: unknown implementation %r" % n)
    # Java first: Rust results are compared with Java's from the same session.
    return sorted(set(names), key=lambda n: (n != "java", n))


IMPLS = _impls()


def need(condition, reason):
    """Skip (or fail under CI=true) when a prerequisite is missing."""
    if condition:
        return
    if CI:
        pytest.fail("missing prerequisite (CI=true): " + reason, pytrace=False)
    pytest.skip(reason)


def java_classpath():
    """zookeeper.jar's manifest lists its dependencies; add an SLF4J binding
    so the server log is not silent, and Netty's codec jar, which Debian's
    manifest leaves out (NettyServerCnxnFactory, the TLS client port, needs it)."""
    jars = [ZK_JAR]
    for name in ("slf4j-simple.jar", "netty-codec.jar"):
        if (JAVA_LIB / name).exists():
            jars.append(JAVA_LIB / name)
    return ":".join(str(j) for j in jars)


def java_available():
    return ZK_JAR.exists() and shutil.which("java") is not None


def require_impl(impl):
    if impl == "java":
        need(java_available(), "Java ZooKeeper not installed (%s, java)" % ZK_JAR)
    elif impl == "rust":
        need(RUST_BIN.is_file() and os.access(RUST_BIN, os.X_OK),
             "Rust server binary not built: %s (set ZK_RUST_BIN or run "
             "cargo build --release)" % RUST_BIN)


# Ports for test servers come from below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default). A port the kernel
# handed out with bind(0) is an ephemeral one: between the test picking it and
# the server binding it, any outgoing connection on the machine (a Java peer
# dialling an election port, a client) may take it as its source port, and
# the server then fails with "Address already in use". Below that range only
# listeners compete, and each port is handed out once per test process,
# starting from a random point so that concurrent processes seldom meet.
_PORT_LOW, _PORT_HIGH = 15000, 32000
_next_port = [_PORT_LOW + (os.getpid() * 7919 + int(time.time())) % (_PORT_HIGH - _PORT_LOW)]


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    high = min(_PORT_HIGH, _ephemeral_low())
    for _ in range(high - _PORT_LOW):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < high else _PORT_LOW
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in %d-%d" % (_PORT_LOW, high))


def four_letter(port, cmd, timeout=5.0, half_close=False):
    """Send a four-letter word and return the whole answer as str."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(cmd.encode() if isinstance(cmd, str) else cmd)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace")


# Servers that are running now; their logs are attached to failure reports.
ACTIVE = []


class ZkServer:
    """One server process (Java QuorumPeerMain or our zk-server) in `workdir`.

    `workdir` holds zoo.cfg, data/ and server.log; the port and dataDir stay
    the same across restart(), so persistence tests can stop and start it.
    """

    def __init__(self, impl, workdir, extra_cfg=None, flags=None):
        self.impl = impl
        # JVM system properties (`-Dname=value`), given to both servers:
        # Java on its command line, ours as zk-server arguments.
        self.flags = list(flags or [])
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.cfg_path = self.workdir / "zoo.cfg"
        self.log_path = self.workdir / "server.log"
        self.proc = None
        self.starts = 0
        cfg = {
            "tickTime": "2000",
            "dataDir": str(self.data_dir),
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "200",
            "admin.enableServer": "false",
            "4lw.commands.whitelist": "*",
            "extendedTypesEnabled": "true",
        }
        cfg.update(extra_cfg or {})
        self.cfg = cfg
        # A None value leaves the key out (e.g. no clientPort at all).
        self.cfg_path.write_text("".join("%s=%s\n" % kv for kv in cfg.items() if kv[1] is not None))
        # How start() asks for ruok/srvr: the plain client port unless a
        # test without one sets its own (e.g. four-letter words over TLS).
        self.probe = None

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def command(self):
        if self.impl == "java":
            return (["java"] + JVM_FLAGS + self.flags
                    + ["-Dorg.slf4j.simpleLogger.showDateTime=true",
                       "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                       "-cp", java_classpath(),
                       "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                       str(self.cfg_path)])
        return [str(RUST_BIN)] + self.flags + [str(self.cfg_path)]

    def start(self, timeout=60.0):
        require_impl(self.impl)
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        env.setdefault("RUST_BACKTRACE", "1")
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("==== start #%d: %s\n" % (self.starts, " ".join(self.command()))).encode())
        log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir,
                                     env=env, start_new_session=True)
        log.close()
        ACTIVE.append(self)
        deadline = time.monotonic() + timeout
        last = None
        probe = self.probe or (lambda word: four_letter(self.port, word, timeout=2.0))
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._forget()
                pytest.fail("%s server exited with %s during start-up; log %s:\n%s"
                            % (self.impl, self.proc.returncode, self.log_path,
                               self.log_tail()), pytrace=False)
            try:
                # Java answers ruok before it serves clients; srvr shows the
                # Mode line only once the ZooKeeperServer is running.
                last = probe("ruok")
                if last == "imok":
                    last = probe("srvr")
                    if "\nMode: " in last:
                        return self
            except OSError as e:
                last = repr(e)
            time.sleep(0.1)
        self.stop()
        pytest.fail("%s server did not answer ruok with imok (and srvr with a Mode line) "
                    "within %.0fs (last: %r); "
                    "log %s:\n%s" % (self.impl, timeout, last, self.log_path,
                                     self.log_tail()), pytrace=False)

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            except ProcessLookupError:
                pass
        self._forget()
        self.proc = None

    def kill(self):
        """SIGKILL (a crash, for persistence tests)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._forget()
        self.proc = None

    def restart(self, timeout=60.0):
        """Stop and start again on the same port and dataDir."""
        self.stop()
        return self.start(timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def four_letter(self, cmd, **kw):
        return four_letter(self.port, cmd, **kw)

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def _forget(self):
        if self in ACTIVE:
            ACTIVE.remove(self)

    def __repr__(self):
        return "ZkServer(%s, port=%d)" % (self.impl, self.port)


class EnsembleServer:
    """A 3-node ensemble of one implementation (sid 3 leads: every peer
    starts empty), presented as the server under test through its
    follower sid 1: `port`/`hosts` are the follower's, so a test written
    for one server reads and writes through a follower (writes forwarded
    to the leader, reads served locally)."""

    def __init__(self, impl, workdir, extra_cfg=None):
        from test_zab_learner import ZabPeer
        self.impl = impl
        self.workdir = Path(workdir)
        cfg = {"tickTime": "2000", "maxClientCnxns": "200", "4lw.commands.whitelist": "*",
               "extendedTypesEnabled": "true"}
        cfg.update(extra_cfg or {})
        self.peers = [ZabPeer(impl, sid, self.workdir / ("s%d" % sid), extra=cfg) for sid in (1, 2, 3)]
        self.port = self.peers[0].client_port
        self.log_path = self.peers[0].log

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        from test_zab_learner import start_ensemble
        require_impl(self.impl)
        ACTIVE.append(self)
        start_ensemble(self.peers, 3)
        return self

    def stop(self):
        for p in self.peers:
            p.stop()
        if self in ACTIVE:
            ACTIVE.remove(self)

    def alive(self):
        return all(p.proc is not None and p.proc.poll() is None for p in self.peers)

    def four_letter(self, cmd, **kw):
        return four_letter(self.port, cmd, **kw)

    def log_tail(self, lines=30):
        return "\n".join("-- peer %d --\n%s" % (p.sid, "\n".join(p.text().splitlines()[-lines:]))
                         for p in self.peers)

    def __repr__(self):
        return "EnsembleServer(%s, follower port=%d)" % (self.impl, self.port)


# ---- pytest wiring -------------------------------------------------------

def pytest_generate_tests(metafunc):
    if "impl" in metafunc.fixturenames:
        metafunc.parametrize("impl", IMPLS, scope="module")
    # A module with ZK_TOPOLOGIES = ("standalone", "ensemble") runs every
    # test that uses the `zk` server against both.
    topologies = getattr(metafunc.module, "ZK_TOPOLOGIES", None)
    if topologies and "zk" in metafunc.fixturenames:
        metafunc.parametrize("topology", topologies, scope="module")


@pytest.fixture(scope="module")
def topology():
    """Where the `zk` fixture's server runs: "standalone" (one server) or
    "ensemble" (a follower of a 3-node ensemble)."""
    return "standalone"


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory):
    """Call with (impl, name, extra_cfg) to get a started server; every server
    made here is stopped at the end of the session unless stopped before."""
    made = []

    def make(impl, name="zk", extra_cfg=None, start=True, flags=None):
        require_impl(impl)
        srv = ZkServer(impl, tmp_path_factory.mktemp("%s-%s" % (name, impl)), extra_cfg, flags)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture(scope="module")
def zk(request, impl, topology, tmp_path_factory):
    """One server per (test module, implementation, topology).  A module
    can set ZK_EXTRA_CFG = {...} for extra zoo.cfg lines.  Tests sharing it
    must use their own path prefixes."""
    require_impl(impl)
    extra = getattr(request.module, "ZK_EXTRA_CFG", None)
    name = request.module.__name__.rsplit(".", 1)[-1]
    if topology == "ensemble":
        srv = EnsembleServer(impl, tmp_path_factory.mktemp("%s-%s-ensemble" % (name, impl)), extra)
    else:
        srv = ZkServer(impl, tmp_path_factory.mktemp("%s-%s" % (name, impl)), extra)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def unique_path(request, impl):
    """A path prefix unique to this test, e.g. /test_crud."""
    return "/" + request.node.originalname


# Results recorded by the Java run of a test, keyed by (nodeid-without-impl, key).
_JAVA_RESULTS = {}


class CrossCheck:
    """Compare observable values between implementations.

    In the Java run, `check(key, value)` records the value.  In the Rust run
    it asserts equality with what Java recorded for the same test and key
    (when Java ran in this session).  Returns the value for chaining.
    """

    def __init__(self, test_key, impl):
        self.test_key = test_key
        self.impl = impl

    def check(self, key, value):
        k = (self.test_key, key)
        value = copy.deepcopy(value)  # later mutation must not change the record
        if self.impl == "java":
            _JAVA_RESULTS[k] = value
        elif k in _JAVA_RESULTS:
            expected = _JAVA_RESULTS[k]
            assert value == expected, (
                "%s differs from Java's result for %r:\n  %s: %r\n  java: %r"
                % (self.impl, key, self.impl, value, expected))
        return value


@pytest.fixture
def crosscheck(request, impl):
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    extra = tuple(sorted((k, repr(v)) for k, v in params.items() if k != "impl"))
    test_key = (request.node.module.__name__, request.node.originalname, extra)
    return CrossCheck(test_key, impl)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and ACTIVE:
        for srv in list(ACTIVE):
            report.sections.append(
                ("server log %s (%s)" % (srv.impl, srv.log_path), srv.log_tail(30)))


def pytest_sessionfinish(session, exitstatus):
    """ZK_INTEROP_DUMP=<file>: write the values Java produced (for reading)."""
    dest = os.environ.get("ZK_INTEROP_DUMP")
    if dest:
        with open(dest, "w") as f:
            for (test_key, key), value in sorted(_JAVA_RESULTS.items(), key=repr):
                f.write("%s %s: %r\n" % (test_key[:2], key, value))


# Lines a test wants in the terminal summary (e.g. the fault suite's figures,
# so ours and Java's stand side by side at the end of scripts/test.sh).
SUMMARY = []


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("figures")
        for line in SUMMARY:
            terminalreporter.write_line(line)
