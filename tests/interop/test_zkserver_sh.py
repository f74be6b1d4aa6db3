"""zkServer.sh: ours (scripts/zkServer.sh) against Debian's Java 3.8.0 script
(/usr/share/zookeeper/bin/zkServer.sh).

The same session — start, status, print-cmd, stop, restart,
start-foreground + SIGTERM, version, and the failure paths — runs with both
scripts at once (one thread each), and every step must print the same
stdout, the same stderr and exit with the same code, once paths, ports,
pids and versions are normalized.  Deliberate differences, asserted
explicitly:
  * Java's script prints "ZooKeeper JMX enabled by default" on stderr; we
    have no JMX and drop the line.
  * start-foreground + SIGTERM: the JVM exits 143 (killed by the signal,
    after its shutdown hook); ours shuts down cleanly and exits 0.
  * print-cmd: the JVM-only words (-XX:..., -Xmx..., -cp <jars>, JMX
    properties, the main class) have no counterpart; the rest matches.
Debian's packaging sources /etc/zookeeper/conf/environment instead of
upstream's zkEnv.sh, which pins ZOOCFGDIR and ZOO_LOG_DIR
(/var/log/zookeeper), so both scripts get the config as an absolute path
argument; the upstream variables Debian ignores (ZOOCFGDIR, ZOOCFG,
--config, ZOO_LOG_DIR) are tested on ours alone.
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import IMPLS, REPO, RUST_BIN, four_letter, free_port, need, require_impl

DEBIAN_SCRIPT = Path("/usr/share/zookeeper/bin/zkServer.sh")
DEBIAN_LOG_DIR = Path("/var/log/zookeeper")    # pinned by Debian's environment file
OUR_SCRIPT = REPO / "scripts" / "zkServer.sh"
USER = "zktest"
HOSTNAME = socket.gethostname()
OUT_NAME = "zookeeper-%s-server-%s.out" % (USER, HOSTNAME)
# Only -D settings reach zk-server; the rest are JVM flags it ignores.
SERVER_JVMFLAGS = ("-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                   "-Dzookeeper.4lw.commands.whitelist=ruok")
JMX_LINE = "ZooKeeper JMX enabled by default"


@dataclass
class Step:
    rc: int
    stdout: str
    stderr: str


@dataclass
class Session:
    """What one script did; `steps` normalized, the rest raw facts."""
    impl: str
    steps: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    error: BaseException = None


class Runner:
    """Runs one script's session in its own directory."""

    def __init__(self, impl, workdir):
        self.impl = impl
        self.workdir = workdir
        self.conf_dir = workdir / "conf"
        self.data_dir = workdir / "data"
        self.conf_dir.mkdir(parents=True)
        self.port = free_port()
        self.cfg = self.conf_dir / "zoo.cfg"
        self.cfg.write_text("tickTime=2000\ndataDir=%s\nclientPort=%d\n"
                            "admin.enableServer=false\n" % (self.data_dir, self.port))
        if impl == "java":
            self.script = DEBIAN_SCRIPT
            self.log_dir = DEBIAN_LOG_DIR
        else:
            self.script = OUR_SCRIPT
            self.log_dir = workdir / "logs"
        self.pid_file = self.data_dir / "zookeeper_server.pid"
        self.out_file = self.log_dir / OUT_NAME
        self.session = Session(impl)

    def env(self, **extra):
        env = dict(os.environ, USER=USER, HOSTNAME=HOSTNAME)
        for name in ("RUST_LOG", "SERVER_JVMFLAGS", "JVMFLAGS", "ZOOCFG", "ZOOPIDFILE",
                     "ZOO_DATADIR_AUTOCREATE_DISABLE", "ZOO_NOEXEC"):
            env.pop(name, None)
        if self.impl == "rust":
            env.update(ZK_SERVER_BIN=str(RUST_BIN), ZOO_LOG_DIR=str(self.log_dir),
                       ZOOCFGDIR=str(self.conf_dir))
        env.update(extra)
        return env

    def normalize(self, text):
        pid = self.pid_file.read_text().strip() if self.pid_file.exists() else None
        text = text.replace(str(self.cfg), "<CFG>").replace(str(self.data_dir), "<DATA>")
        text = text.replace(str(self.log_dir), "<LOGDIR>").replace(str(self.script), "<SCRIPT>")
        text = re.sub(r"\b%d\b" % self.port, "<PORT>", text)
        if pid:
            text = re.sub(r"\b%s\b" % pid, "<PID>", text)
        text = re.sub(r"^Apache ZooKeeper, version \S+ \d{4}-\d\d-\d\d \d\d:\d\d UTC$",
                      "Apache ZooKeeper, version <VERSION> <BUILT>", text, flags=re.M)
        return "\n".join(l for l in text.split("\n") if l != JMX_LINE)

    def run(self, name, *args, env=None, timeout=60):
        proc = subprocess.run(["bash", str(self.script)] + list(args), env=env or self.env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, cwd=self.workdir)
        step = Step(proc.returncode, self.normalize(proc.stdout), self.normalize(proc.stderr))
        self.session.steps[name] = step
        return proc

    def serving(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if "Mode: standalone" in four_letter(self.port, "srvr", timeout=5.0):
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def pid(self):
        return int(self.pid_file.read_text()) if self.pid_file.exists() else None

    def session_steps(self):
        facts = self.session.facts
        cfg = str(self.cfg)
        self.run("autocreate_disabled", "start", cfg, env=self.env(ZOO_DATADIR_AUTOCREATE_DISABLE="1"))
        self.run("status_stopped", "status", cfg)
        self.run("stop_stopped", "stop", cfg)

        self.run("start", "start", cfg, env=self.env(SERVER_JVMFLAGS=SERVER_JVMFLAGS))
        facts["first_pid"] = first = self.pid()
        facts["serving_after_start"] = self.serving()
        facts["ruok_from_server_jvmflags"] = four_letter(self.port, "ruok", timeout=20.0)
        facts["out_file_after_start"] = self.out_file.exists()
        facts["out_text"] = self.out_file.read_text(errors="replace") if self.out_file.exists() else ""
        self.run("start_again", "start", cfg)
        self.run("status_running", "status", cfg)
        self.run("print_cmd", "print-cmd", cfg, env=self.env(SERVER_JVMFLAGS=SERVER_JVMFLAGS))

        self.run("restart", "restart", cfg)
        facts["restarted_pid_changed"] = self.pid() not in (None, first)
        facts["first_pid_gone"] = wait_gone(first)
        facts["serving_after_restart"] = self.serving()
        self.run("status_after_restart", "status", cfg)
        second = self.pid()
        self.run("stop", "stop", cfg)
        facts["pid_file_after_stop"] = self.pid_file.exists()
        facts["stopped_pid_gone"] = wait_gone(second)

        self.foreground(cfg)
        self.run("version", "version", cfg)
        self.run("usage", "bogus", cfg)

    def foreground(self, cfg):
        """start-foreground, then SIGTERM to the server (exec'd in place of
        the script)."""
        facts = self.session.facts
        env = self.env(JVMFLAGS="-Dzookeeper.console.threshold=WARN")
        proc = subprocess.Popen(["bash", str(self.script), "start-foreground", cfg], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.workdir,
                                start_new_session=True)
        try:
            facts["foreground_serving"] = self.serving()
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
            facts["foreground_exit_seconds"] = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        facts["foreground_rc"] = proc.returncode
        facts["foreground_stdout"] = out
        facts["foreground_stderr"] = self.normalize(err)

    def __call__(self):
        try:
            self.session_steps()
        except BaseException as e:   # reported by the test, not lost in the thread
            done = ", ".join(self.session.steps) or "none"
            self.session.error = AssertionError(
                "%s session failed after steps [%s]: %r" % (self.impl, done, e))
            self.session.error.__cause__ = e
        finally:
            pid = self.pid()
            if pid and wait_gone(pid, 0) is False:
                os.kill(pid, signal.SIGKILL)


def wait_gone(pid, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def require_script(impl):
    if impl == "java":
        need(DEBIAN_SCRIPT.exists(), "Debian's zkServer.sh not installed (%s)" % DEBIAN_SCRIPT)
        need(os.access(DEBIAN_LOG_DIR, os.W_OK) or os.geteuid() == 0,
             "Debian's script writes to %s, which is not writable" % DEBIAN_LOG_DIR)
    require_impl(impl)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    runners = {}
    for impl in IMPLS:
        require_script(impl)
        runners[impl] = Runner(impl, tmp_path_factory.mktemp("zkserver-sh-" + impl))
    threads = [threading.Thread(target=r, name="session-" + impl) for impl, r in runners.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in runners.values():
        if r.session.error is not None:
            raise r.session.error
    return {impl: r.session for impl, r in runners.items()}


# What every step prints (normalized), as Java's script prints it.
USING = "Using config: <CFG>\n"
NOT_RUNNING = ("Client port found: <PORT>. Client address: localhost. Client SSL: false.\n"
               "Error contacting service. It is probably not running.\n")
EXPECTED = {
    "autocreate_disabled": (1, "ZooKeeper data directory is missing at <DATA> fix the path "
                               "or run initialize\n", USING),
    "status_stopped": (1, NOT_RUNNING, USING),
    "stop_stopped": (0, "Stopping zookeeper ... no zookeeper to stop (could not find file "
                        "<DATA>/zookeeper_server.pid)\n", USING),
    "start": (0, "Starting zookeeper ... STARTED\n", USING),
    "start_again": (1, "Starting zookeeper ... already running as process <PID>.\n", USING),
    "status_running": (0, "Client port found: <PORT>. Client address: localhost. "
                          "Client SSL: false.\nMode: standalone\n", USING),
    "restart": (0, "Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n",
                USING * 3),
    "status_after_restart": (0, "Client port found: <PORT>. Client address: localhost. "
                                "Client SSL: false.\nMode: standalone\n", USING),
    "stop": (0, "Stopping zookeeper ... STOPPED\n", USING),
    "version": (0, "Apache ZooKeeper, version <VERSION> <BUILT>\n", USING),
    "usage": (0, "", USING + "Usage: <SCRIPT> [--config <conf-dir>] "
                 "{start|start-foreground|stop|version|restart|status|print-cmd}\n"),
}


@pytest.mark.parametrize("step", sorted(EXPECTED))
def test_step_prints_javas_messages(sessions, step):
    for impl, session in sessions.items():
        got = session.steps[step]
        assert (got.rc, got.stdout, got.stderr) == EXPECTED[step], "%s, step %s" % (impl, step)


def test_server_jvmflags_reach_the_server(sessions):
    for impl, s in sessions.items():
        assert s.facts["serving_after_start"], impl
        assert s.facts["ruok_from_server_jvmflags"] == "imok", impl


def test_pid_file_and_restart(sessions):
    for impl, s in sessions.items():
        f = s.facts
        assert f["first_pid"], impl
        assert f["restarted_pid_changed"] and f["first_pid_gone"], impl
        assert f["serving_after_restart"], impl
        assert not f["pid_file_after_stop"] and f["stopped_pid_gone"], impl


def test_output_goes_to_the_out_file(sessions):
    """$ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out, as Java's script;
    ours writes its (Java-like) log lines there."""
    for impl, s in sessions.items():
        assert s.facts["out_file_after_start"], impl
    if "rust" in sessions:
        text = sessions["rust"].facts["out_text"]
        assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[myid:\] - INFO  \[main:.*\] - "
                         r"Reading configuration from: ", text, re.M), text[:2000]


def print_cmd_words(impl, line):
    """The words both commands share: -D settings (minus JMX ones), the
    config and the redirections; the program is replaced by <PROGRAM>."""
    words = shlex.split(line)
    program, rest = words[0], words[1:]
    kept, skip_next = ["<PROGRAM>"], False
    for w in rest:
        if skip_next:
            skip_next = False
        elif w == "-cp":
            skip_next = True
        elif w.startswith(("-X", "-Dcom.sun.management.")) or w.startswith("org.apache."):
            continue
        else:
            kept.append(w)
    return program, kept


def test_print_cmd(sessions):
    expected = ["<PROGRAM>", "-Dzookeeper.log.dir=<LOGDIR>",
                "-Dzookeeper.log.file=zookeeper-%s-server-%s.log" % (USER, HOSTNAME),
                "-Dzookeeper.4lw.commands.whitelist=ruok", "<CFG>",
                ">", "<LOGDIR>/" + OUT_NAME, "2>&1", "<", "/dev/null"]
    for impl, s in sessions.items():
        step = s.steps["print_cmd"]
        assert (step.rc, step.stderr) == (0, USING), impl
        program, words = print_cmd_words(impl, step.stdout)
        assert words == expected, impl
        if impl == "rust":
            assert program == str(RUST_BIN)


def test_start_foreground_and_sigterm(sessions):
    for impl, s in sessions.items():
        f = s.facts
        assert f["foreground_serving"], impl
        assert f["foreground_exit_seconds"] < 20, impl
        assert f["foreground_stderr"].startswith(USING), impl
    if "java" in sessions:
        assert sessions["java"].facts["foreground_rc"] == 128 + signal.SIGTERM
    if "rust" in sessions:
        f = sessions["rust"].facts
        assert f["foreground_rc"] == 0, "clean shutdown on SIGTERM exits 0"
        # -Dzookeeper.console.threshold=WARN in JVMFLAGS set the level.
        assert " INFO " not in f["foreground_stdout"], f["foreground_stdout"][:2000]


# ---- ours only: what Debian's packaging does not honour ----------------------

@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    if "rust" not in IMPLS:
        pytest.skip("ZK_IMPLS has no rust")
    require_impl("rust")
    return tmp_path_factory.mktemp("zkserver-sh-ours")


def run_ours(args, env_extra, cwd):
    env = dict(os.environ, USER=USER, HOSTNAME=HOSTNAME, ZK_SERVER_BIN=str(RUST_BIN))
    for name in ("ZOOCFGDIR", "ZOOCFG", "RUST_LOG", "SERVER_JVMFLAGS", "JVMFLAGS", "ZOO_LOG_DIR"):
        env.pop(name, None)
    env.update(env_extra)
    return subprocess.run(["bash", str(OUR_SCRIPT)] + args, env=env, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL, cwd=cwd)


def write_conf(directory, name="zoo.cfg", text=None, port=2181):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text or "dataDir=%s/data\nclientPort=%d\n" % (directory, port))
    return directory / name


def using_config(proc):
    lines = [l for l in proc.stderr.splitlines() if l.startswith("Using config: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0][len("Using config: "):]


def test_config_location_variables(ours):
    a, b = ours / "confA", ours / "confB"
    write_conf(a)
    write_conf(a, "alt.cfg")
    write_conf(b)
    logs = str(ours / "logs")
    cases = [
        (["print-cmd"], {"ZOOCFGDIR": str(a)}, a / "zoo.cfg"),
        (["print-cmd"], {"ZOOCFGDIR": str(a), "ZOOCFG": "alt.cfg"}, a / "alt.cfg"),
        (["--config", str(b), "print-cmd"], {"ZOOCFGDIR": str(a)}, b / "zoo.cfg"),
        (["print-cmd", "alt.cfg"], {"ZOOCFGDIR": str(a)}, a / "alt.cfg"),
        (["print-cmd", str(b / "zoo.cfg")], {"ZOOCFGDIR": str(a)}, b / "zoo.cfg"),
        (["print-cmd"], {}, REPO / "conf" / "zoo.cfg"),     # the repo's conf/ by default
    ]
    for args, env, expected in cases:
        proc = run_ours(args, dict(env, ZOO_LOG_DIR=logs), ours)
        assert proc.returncode == 0, proc.stderr
        assert os.path.samefile(using_config(proc), expected), (args, env, proc.stderr)
        assert proc.stdout.rstrip().split(" > ")[0].endswith('"%s"' % using_config(proc))


def test_log_dir_and_out_file_name(ours):
    cfg = write_conf(ours / "conf-log")
    proc = run_ours(["print-cmd", str(cfg)], {"ZOO_LOG_DIR": str(ours / "mylogs")}, ours)
    assert proc.returncode == 0
    assert proc.stdout.rstrip().endswith('> "%s/%s" 2>&1 < /dev/null' % (ours / "mylogs", OUT_NAME))
    assert (ours / "mylogs").is_dir(), "the log dir is created, as Java's script does"


def test_pid_file_variable(ours):
    cfg = write_conf(ours / "conf-pid")
    pid_file = ours / "pids" / "zk.pid"
    proc = run_ours(["stop", str(cfg)], {"ZOOPIDFILE": str(pid_file),
                                         "ZOO_LOG_DIR": str(ours / "logs")}, ours)
    assert (proc.returncode, proc.stdout) == (
        0, "Stopping zookeeper ... no zookeeper to stop (could not find file %s)\n" % pid_file)
    assert pid_file.parent.is_dir(), "its directory is created, as Java's script does"


def source_env(conf_dir, env_extra):
    script = 'ZOOBINDIR="%s"; . "%s/zkEnv.sh"; printf "%%s" "$RUST_LOG"' % (
        REPO / "scripts", REPO / "scripts")
    env = dict(os.environ, ZOOCFGDIR=str(conf_dir))
    for name in ("RUST_LOG", "SERVER_JVMFLAGS", "JVMFLAGS"):
        env.pop(name, None)
    env.update(env_extra)
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=10).stdout


def test_log_level_from_rust_log_flags_or_logback_xml(ours):
    plain = ours / "conf-plain"
    plain.mkdir()
    logback = ours / "conf-logback"
    logback.mkdir()
    (logback / "logback.xml").write_text(
        '<configuration>\n  <root level="DEBUG">\n    <appender-ref ref="CONSOLE" />\n'
        '  </root>\n</configuration>\n')
    assert source_env(plain, {}) == ""                      # zk-server's default applies
    assert source_env(logback, {}) == "debug"
    assert source_env(logback, {"SERVER_JVMFLAGS": "-Xmx1g -Dzookeeper.console.threshold=WARN"}) == "warn"
    assert source_env(plain, {"JVMFLAGS": "-Dzookeeper.console.threshold=TRACE"}) == "trace"
    assert source_env(logback, {"RUST_LOG": "error"}) == "error"


def test_status_finds_the_client_port_like_java(ours):
    """The config-reading paths of `status` (no server running): the
    same messages as Java's script, plus the separators Java's grep
    misses."""
    port = free_port()
    d = ours / "status"
    cases = [
        ("clientPort: %d\nclientPortAddress 127.0.0.1\ndataDir=%s\n" % (port, d), None,
         "Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\n" % port),
        ("dataDir=%s\nserver.3=127.0.0.1:2888:3888;127.0.0.1:%d\n" % (d, port), "3",
         "Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\n" % port),
        ("dataDir=%s\nserver.3=127.0.0.1:2888:3888\n" % d, None,
         "myid could not be determined, will not able to locate clientPort in the server configs.\n"
         "Client port not found. Looking for secureClientPort in the static config.\n"
         "Unable to find either secure or unsecure client port in any configs. Terminating.\n"),
        ("dataDir=%s\ndynamicConfigFile=%s/zoo.cfg.dynamic\n" % (d, d), "3",
         "Client port not found in static config file. Looking in dynamic config file.\n"
         "Client port found: %d. Client address: localhost. Client SSL: false.\n" % port),
    ]
    for text, myid, expected in cases:
        d.mkdir(exist_ok=True)
        (d / "myid").unlink(missing_ok=True)
        if myid:
            (d / "myid").write_text(myid + "\n")
        (d / "zoo.cfg.dynamic").write_text("server.3=127.0.0.1:2888:3888:participant;%d\n" % port)
        cfg = write_conf(d, text=text)
        proc = run_ours(["status", str(cfg)], {"ZOO_LOG_DIR": str(ours / "logs")}, ours)
        if "Terminating" in expected:
            assert (proc.returncode, proc.stdout) == (1, expected)
        else:
            assert (proc.returncode, proc.stdout) == (
                1, expected + "Error contacting service. It is probably not running.\n"), text


def fake_checkout(root, cargo_body):
    """A checkout without target/ (scripts and Cargo.toml copied) and a
    fake `cargo` first in PATH that records its arguments and runs
    `cargo_body`."""
    (root / "scripts").mkdir(parents=True)
    for name in ("zkServer.sh", "zkEnv.sh"):
        (root / "scripts" / name).write_text((REPO / "scripts" / name).read_text())
    (root / "Cargo.toml").write_text('[package]\nname = "zookeeper-rs"\nversion = "9.8.7"\n')
    write_conf(root / "conf")
    bin_dir = root / "fakebin"
    bin_dir.mkdir()
    cargo = bin_dir / "cargo"
    cargo.write_text('#!/bin/sh\necho "$PWD $*" >> "%s/cargo.calls"\n%s\n' % (root, cargo_body))
    cargo.chmod(0o755)
    return bin_dir


def run_checkout(root, bin_dir, args):
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), USER=USER)
    for name in ("ZK_SERVER_BIN", "ZOOCFGDIR", "ZOOCFG", "ZOO_LOG_DIR"):
        env.pop(name, None)
    return subprocess.run(["bash", str(root / "scripts" / "zkServer.sh")] + args, env=env,
                          capture_output=True, text=True, timeout=30, cwd=root)


def test_builds_the_release_binary_when_missing(ours):
    root = ours / "checkout-ok"
    bin_dir = fake_checkout(root, 'mkdir -p target/release && cp "%s" target/release/zk-server'
                            % RUST_BIN)
    proc = run_checkout(root, bin_dir, ["version"])
    assert proc.returncode == 0, proc.stderr
    assert (root / "cargo.calls").read_text() == "%s build --quiet --release --bin zk-server\n" % root
    assert "Building zk-server" in proc.stderr
    assert re.fullmatch(r"Apache ZooKeeper, version \S+ \d{4}-\d\d-\d\d \d\d:\d\d UTC\n", proc.stdout)
    # Built once: the next run uses it.
    assert run_checkout(root, bin_dir, ["version"]).returncode == 0
    assert len((root / "cargo.calls").read_text().splitlines()) == 1


def test_failed_build_shows_cargo_output(ours):
    root = ours / "checkout-fail"
    bin_dir = fake_checkout(root, 'echo "error[E0001]: it does not compile" >&2; exit 101')
    proc = run_checkout(root, bin_dir, ["start"])
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "error[E0001]: it does not compile" in proc.stderr
    assert "Error: building zk-server failed." in proc.stderr


# ---- status over TLS -----------------------------------------------------

from test_tls import PASSWORD as TLS_PASSWORD, certs  # noqa: E402,F401 (the fixture)


def secure_only_member(impl, workdir, certs, standalone=False):  # noqa: F811
    """A one-member ensemble (standaloneEnabled=false), or a standalone
    server, with no clientPort, only secureClientPort: `status` must go
    over TLS."""
    from conftest import java_classpath
    data = workdir / "data"
    data.mkdir(parents=True)
    (data / "myid").write_text("1\n")
    secure = free_port()
    cfg = workdir / "zoo.cfg"
    cfg.write_text("\n".join([
        "tickTime=2000", "initLimit=5", "syncLimit=2", "dataDir=%s" % data,
        "admin.enableServer=false"] + ([] if standalone else [
        "standaloneEnabled=false",
        "server.1=127.0.0.1:%d:%d" % (free_port(), free_port())]) + [
        "secureClientPort=%d" % secure, "secureClientPortAddress=127.0.0.1",
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.keyStore.location=%s" % (certs / "server.jks"),
        "ssl.keyStore.password=%s" % TLS_PASSWORD,
        "ssl.trustStore.location=%s" % (certs / "trust.jks"),
        "ssl.trustStore.password=%s" % TLS_PASSWORD]) + "\n")
    if impl == "java":
        cmd = ["java", "-Xmx256m", "-cp", java_classpath(),
               "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]
    else:
        cmd = [str(RUST_BIN), str(cfg)]
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    return proc, cfg, secure


def client_tls_flags(certs, trust="trust.jks"):  # noqa: F811
    return ("-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty "
            "-Dzookeeper.ssl.trustStore.location=%s -Dzookeeper.ssl.trustStore.password=%s "
            "-Dzookeeper.ssl.keyStore.location=%s -Dzookeeper.ssl.keyStore.password=%s "
            "-Dzookeeper.client.secure=true"
            % (certs / trust, TLS_PASSWORD, certs / "client.jks", TLS_PASSWORD))


@pytest.mark.parametrize("mode", ["leader", "standalone"])
def test_status_over_tls_like_java(certs, tmp_path, mode):  # noqa: F811
    """No clientPort, a secureClientPort: Java's script asks srvr over TLS
    with the ssl properties of CLIENT_JVMFLAGS, ours the same; without a
    usable trust store both print Java's note and fail. A one-member
    ensemble, and a standalone server (which ours refused before)."""
    for impl in IMPLS:
        require_script(impl)
    outputs = {}
    for impl in IMPLS:
        workdir = tmp_path / impl
        workdir.mkdir()
        proc, cfg, secure = secure_only_member(impl, workdir, certs, standalone=mode == "standalone")
        try:
            deadline = time.monotonic() + 60
            script = DEBIAN_SCRIPT if impl == "java" else OUR_SCRIPT
            base = dict(os.environ, USER=USER)
            base.pop("JVMFLAGS", None)
            if impl == "rust":
                base.update(ZK_SERVER_BIN=str(RUST_BIN), ZOO_LOG_DIR=str(workdir / "logs"))
            runs = {}
            for name, flags in (("good", client_tls_flags(certs)),
                                ("no_trust", client_tls_flags(certs, "absent.jks"))):
                while True:
                    out = subprocess.run(["bash", str(script), "status", str(cfg)],
                                         env=dict(base, CLIENT_JVMFLAGS=flags), text=True,
                                         capture_output=True, timeout=120, cwd=workdir)
                    if name != "good" or out.returncode == 0 or time.monotonic() > deadline:
                        break
                    time.sleep(1)
                runs[name] = (out.returncode, out.stdout.replace(str(secure), "<PORT>"))
            outputs[impl] = runs
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    for impl, runs in outputs.items():
        rc, text = runs["good"]
        assert rc == 0 and "Client SSL: true." in text and "Mode: " + mode in text, (impl, text)
        rc, text = runs["no_trust"]
        assert rc == 1 and "Note: We used secureClientPort" in text, (impl, text)
    if len(outputs) == 2:
        assert outputs["rust"] == outputs["java"]
