"""scripts/zkServer-initialize.sh: Java's options, messages and exit codes,
and a dataDir that Java 3.8.0 and ours start on the same way.

Debian's Java package does not ship zkServer-initialize.sh, so Java's
server is the oracle for what the script prepares: each implementation
starts with `zookeeper.datadir.autocreate=false` and
`zookeeper.db.autocreate=false` (the setting the script is for) on a
freshly initialized dataDir, and both must consume the `initialize` marker
(in the dataDir; with a separate dataLogDir both look for it next to the
logs, so a marker in the dataDir stays) and serve.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import JVM_FLAGS, REPO, RUST_BIN, four_letter, free_port, java_classpath, need, require_impl

SCRIPT = REPO / "scripts" / "zkServer-initialize.sh"
USAGE_HEAD = "usage: %s <parameters>\n  Optional parameters:\n" % SCRIPT

OBSERVED = {}


def run(*args, env_extra=None, cwd=None):
    import os
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run([str(SCRIPT)] + list(args), capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    return p.returncode, p.stdout


def write_cfg(path, data, logs=None, port=None):
    lines = ["tickTime=2000", "dataDir=%s" % data, "clientPort=%d" % (port or free_port()),
             "clientPortAddress=127.0.0.1", "admin.enableServer=false", "4lw.commands.whitelist=*"]
    if logs:
        lines.append("dataLogDir=%s" % logs)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_options_messages_and_exit_codes(tmp_path):
    data, logs = tmp_path / "data", tmp_path / "logs"
    cfg = write_cfg(tmp_path / "zoo.cfg", data, logs)
    (logs / "version-2").mkdir(parents=True)
    (logs / "version-2" / "log.1").write_bytes(b"x")
    code, out = run("--configfile=%s" % cfg, "--myid=3")
    assert (code, out) == (1, "ZooKeeper txnlog directory already exists at %s "
                              "(or use --force to force re-initialization)\n" % logs)
    code, out = run("--configfile", str(cfg), "--myid", "3", "--force")
    assert code == 0 and out == ("Force enabled, data/txnlog directories will be re-initialized\n"
                                 "Using myid of 3\n")
    assert (data / "myid").read_text() == "3\n"
    assert (data / "initialize").read_bytes() == b""
    assert list((data / "version-2").iterdir()) == [] and list((logs / "version-2").iterdir()) == []
    code, out = run("--configfile=%s" % cfg)
    assert (code, out) == (1, "ZooKeeper data directory already exists at %s "
                              "(or use --force to force re-initialization)\n" % data)
    only_data = write_cfg(tmp_path / "only-data.cfg", tmp_path / "d2")
    code, out = run("--configfile=%s" % only_data)
    assert (code, out) == (0, "No myid provided, be sure to specify it in %s/myid if using non-standalone\n"
                           % (tmp_path / "d2"))
    assert not (tmp_path / "d2" / "myid").exists()
    code, out = run("--configfile=%s" % (tmp_path / "missing.cfg"))
    assert (code, out) == (1, "Unable to find config file at %s\n" % (tmp_path / "missing.cfg"))
    (tmp_path / "nodata.cfg").write_text("clientPort=2181\n")
    code, out = run("--configfile=%s" % (tmp_path / "nodata.cfg"))
    assert (code, out) == (1, "Unable to determine dataDir from %s\n" % (tmp_path / "nodata.cfg"))
    code, out = run("--bogus")
    assert code == 1 and out.startswith("Unknown option: --bogus\n" + USAGE_HEAD), out
    code, out = run("-h", env_extra={"ZOOCFGDIR": str(tmp_path)})
    assert code == 1 and out.startswith(USAGE_HEAD), out
    assert "     --configfile=%-40s ZooKeeper config file\n" % (tmp_path / "zoo.cfg") in out


def start(impl, cfg, log):
    flags = ["-Dzookeeper.datadir.autocreate=false", "-Dzookeeper.db.autocreate=false"]
    if impl == "java":
        cmd = ["java"] + JVM_FLAGS + flags + ["-cp", java_classpath(),
                                              "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]
    else:
        cmd = [str(RUST_BIN)] + flags + [str(cfg)]
    return subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("layout", ["datadir", "datalogdir"])
def test_servers_start_on_an_initialized_datadir(impl, layout, tmp_path):
    require_impl(impl)
    data = tmp_path / "data"
    logs = tmp_path / "logs" if layout == "datalogdir" else None
    port = free_port()
    cfg = write_cfg(tmp_path / "zoo.cfg", data, logs, port)
    code, out = run("--configfile=%s" % cfg, "--myid=1")
    assert code == 0, out
    log = tmp_path / "server.log"
    proc = start(impl, cfg, log)
    try:
        deadline = time.monotonic() + 60
        srvr = ""
        while "\nMode: " not in srvr:
            assert proc.poll() is None, "%s exited %s:\n%s" % (impl, proc.returncode, log.read_text()[-3000:])
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                srvr = four_letter(port, "srvr", timeout=2.0)
            except OSError:
                time.sleep(0.2)
        zxid = [line for line in srvr.splitlines() if line.startswith("Zxid:")]
        seen = {"marker_left": (data / "initialize").exists(), "zxid": zxid,
                "marker_logged": "Initialize file found" in log.read_text(errors="replace")}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    # The marker is taken where the logs are: in the dataDir when it holds
    # them, never from the dataDir when dataLogDir is separate.
    expected = {"marker_left": layout == "datalogdir", "marker_logged": layout == "datadir",
                "zxid": ["Zxid: 0x0"] if layout == "datadir" else seen["zxid"]}
    assert seen == expected, (impl, seen)
    OBSERVED.setdefault(layout, {})[impl] = seen
    if impl != "java" and "java" in OBSERVED[layout]:
        assert seen == OBSERVED[layout]["java"], OBSERVED[layout]


MIRROR = Path(os.environ.get("ZK_JAVA_MIRROR", "/work/.mirror/apache+zookeeper/repo"))


def javas_script(tmp_path):
    """Java 3.8.0's bin/zkServer-initialize.sh and the zkEnv.sh it sources,
    from the ZooKeeper git mirror (Debian's package does not ship it)."""
    need(MIRROR.is_dir(), "the ZooKeeper git mirror (%s, ZK_JAVA_MIRROR)" % MIRROR)
    bin_dir = tmp_path / "java-bin"
    bin_dir.mkdir()
    for name in ("zkServer-initialize.sh", "zkEnv.sh"):
        text = subprocess.run(["git", "--git-dir", str(MIRROR), "show", "release-3.8.0-1:bin/" + name],
                              check=True, capture_output=True, timeout=60).stdout
        (bin_dir / name).write_bytes(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir / "zkServer-initialize.sh"


def scenario(script, base):
    """Runs one sequence of invocations in `base`; returns what a user sees:
    each exit code and output (paths made relative), and the files left."""
    base.mkdir()
    conf = base / "conf"
    conf.mkdir()
    write_cfg(conf / "zoo.cfg", base / "data", base / "logs")
    write_cfg(conf / "data-only.cfg", base / "d2")
    (conf / "nodata.cfg").write_text("clientPort=2181\n")
    (conf / "spaced.cfg").write_text("  dataDir=%s\n" % (base / "d3"))
    # With JAVA_HOME set, Java's zkEnv.sh does not print where it found java.
    java_home = Path(os.path.realpath(shutil.which("java") or "/usr/bin/java")).parent.parent
    env = dict(os.environ, ZOOCFGDIR=str(conf), JAVA_HOME=str(java_home))
    seen = []
    for args in (["--configfile=%s" % (conf / "zoo.cfg"), "--myid=3"],
                 ["--configfile", str(conf / "zoo.cfg")],
                 ["--configfile=%s" % (conf / "zoo.cfg"), "--myid", "7", "--force"],
                 ["--configfile=%s" % (conf / "data-only.cfg")],
                 ["--configfile=%s" % (conf / "spaced.cfg"), "--myid=2"],
                 ["--configfile=%s" % (conf / "nodata.cfg")],
                 ["--configfile=%s" % (conf / "missing.cfg")],
                 ["--myid=4"],
                 ["--bogus"], ["-h"], ["--help"]):
        p = subprocess.run([str(script)] + args, capture_output=True, text=True, env=env, timeout=60)
        seen.append(([a.replace(str(base), "BASE") for a in args], p.returncode,
                     p.stdout.replace(str(script), "SCRIPT").replace(str(base), "BASE")))
    files = sorted((str(f.relative_to(base)), f.read_text() if f.is_file() else "dir")
                   for f in base.rglob("*") if not f.is_relative_to(conf))
    return seen, files


def test_same_as_javas_script(tmp_path):
    """Java's own script and ours, on the same invocations: the same exit
    codes, messages and files (myid, initialize, version-2 directories)."""
    java_seen = scenario(javas_script(tmp_path), tmp_path / "java")
    our_seen = scenario(SCRIPT, tmp_path / "ours")
    for ours, java in zip(our_seen[0], java_seen[0]):
        assert ours == java
    assert our_seen[1] == java_seen[1]
    assert ("data/myid", "7\n") in java_seen[1] and ("data/initialize", "") in java_seen[1], java_seen
