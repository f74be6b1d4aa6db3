"""The Debian package (`cargo deb`) switching a Java ZooKeeper installation
to ours and back.

Where it runs: in a copy-on-write root of this very machine, never on the
machine itself. `OverlayRoot` mounts an overlayfs whose lower layer is `/`
(read only) and whose upper layer is a fresh directory in /dev/shm, inside
private mount and PID namespaces (`unshare`), and runs every command there
through `chroot`. So the packages start out exactly as Debian installed them
here (dpkg's database, Java's `zookeeper` package, the `zookeeper` user,
/etc/zookeeper/conf), dpkg and the maintainer scripts really run, and yet
the machine's Java ZooKeeper (`/usr/share/java/zookeeper.jar`,
`/usr/share/zookeeper/bin/zkCli.sh`), which the other interop tests use
in parallel, is never touched: every write lands in the upper layer, which
goes away with the namespaces. Network is shared, so kazoo on the host talks
to the servers in the root. There is no systemd in this sandbox; the test
runs the unit's `ExecStart=` command line itself, as the unit's `User=`,
with the environment systemd would give it.

The scenario (the operator's): Debian's `zookeeper` + `zookeeperd` (Java),
configured in /etc/zookeeper/conf (dataDir /var/lib/zookeeper, myid 1),
started by its init script, holds data written through kazoo; `dpkg -i`
our package (dpkg removes Java's two packages: Conflicts + Replaces); the
config, myid and data are still there; our unit's command line serves the
old data with the same stats; `dpkg -r` removes ours cleanly (config and
data kept); Java's packages go back in (`apt-get install zookeeper
zookeeperd`, the README's command, with the .debs fetched beforehand) and
Java serves everything, including what ours wrote.
"""

import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import CI, REPO, ZK_JAR, ZKCLI, four_letter, free_port, need

kazoo = pytest.importorskip("kazoo.client")
from kazoo.exceptions import NoAuthError  # noqa: E402
from kazoo.security import make_digest_acl  # noqa: E402

JAVA_DEBS = ("zookeeper", "zookeeperd")
UNIT = "/usr/lib/systemd/system/zookeeper.service"
# What systemd puts in a system service's environment besides Environment=.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def cargo():
    found = shutil.which("cargo")
    if found:
        return found
    home = Path.home() / ".cargo" / "bin" / "cargo"
    return str(home) if home.exists() else None


def has_cargo_deb():
    c = cargo()
    if not c:
        return False
    return subprocess.run([c, "deb", "--version"], capture_output=True).returncode == 0


class OverlayRoot:
    """A copy-on-write root over `/` in private mount and PID namespaces."""

    REAPER = ("import os, time\n"
              "while True:\n"
              "    try:\n"
              "        os.wait()\n"
              "    except ChildProcessError:\n"
              "        time.sleep(0.2)\n")

    def __init__(self, workdir):
        self.shm = Path(tempfile.mkdtemp(prefix="zk-package-", dir="/dev/shm"))
        upper, work = self.shm / "upper", self.shm / "work"
        upper.mkdir()
        work.mkdir()
        self.root = Path(workdir) / "root"
        self.root.mkdir()
        r = shlex.quote(str(self.root))
        setup = "\n".join([
            "set -e",
            "mount -t overlay overlay -o lowerdir=/,upperdir=%s,workdir=%s %s" % (upper, work, r),
            "mount -t proc proc %s/proc" % r,
            "mount --rbind /dev %s/dev" % r,
            "mount -t tmpfs tmpfs %s/tmp" % r,
            "mount -t tmpfs tmpfs %s/run" % r,
            "mkdir -p %s/run/lock" % r,
            "echo ready",
            "exec python3 -c %s" % shlex.quote(self.REAPER),
        ])
        self.unshare = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c", setup],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        line = self.unshare.stdout.readline().decode().strip()
        if line != "ready":
            rest = self.unshare.stdout.read().decode(errors="replace")
            self.unshare.wait(10)
            raise RuntimeError("overlay root setup failed: %s %s" % (line, rest))
        # PID 1 of the new namespace: unshare's only child.
        children = Path("/proc/%d/task/%d/children" % (self.unshare.pid, self.unshare.pid))
        self.init_pid = int(children.read_text().split()[0])

    def argv(self, cmd, user=None, env=None):
        """The host command line that runs `cmd` (a list) in the root."""
        argv = ["nsenter", "-t", str(self.init_pid), "-m", "-p", "--", "chroot", str(self.root)]
        if env is not None:
            argv += ["env", "-i"] + ["%s=%s" % kv for kv in env.items()]
        if user is not None:
            argv += ["setpriv", "--reuid=" + user[0], "--regid=" + user[1], "--init-groups", "--"]
        return argv + list(cmd)

    def run(self, cmd, check=True, timeout=300, **kw):
        """Runs a shell command line as root in the root; returns its output."""
        p = subprocess.run(self.argv(["sh", "-c", cmd], **kw), capture_output=True, timeout=timeout)
        out = (p.stdout + p.stderr).decode(errors="replace")
        if check and p.returncode != 0:
            pytest.fail("in the overlay root: %s\nexit %d:\n%s" % (cmd, p.returncode, out), pytrace=False)
        return out

    def copy_in(self, src, dest):
        """Copies a host file to `dest` in the root (the root's /tmp is its own)."""
        subprocess.run(["nsenter", "-t", str(self.init_pid), "-m", "--", "cp", str(src),
                        str(self.root) + dest], check=True)

    def read(self, path):
        return self.run("cat %s" % shlex.quote(path))

    def close(self):
        # Killing PID 1 of the namespace kills every process in it; the
        # mounts go with the last one.
        try:
            os.kill(self.init_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.unshare.wait(30)
        finally:
            shutil.rmtree(self.shm, ignore_errors=True)


def parse_unit(text):
    """[(section, key, value)] of a systemd unit file (comments, blank lines
    and continuation lines handled as systemd does for these simple files)."""
    entries, section = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def unit_values(entries, section, key):
    return [v for s, k, v in entries if s == section and k == key]


def passwd_entry(root, name):
    for line in root.read("/etc/passwd").splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    return None


def snapshot_tree(client, path="/", acc=None):
    """{path: (data, stat fields users see)} of everything under `path` but /zookeeper."""
    acc = {} if acc is None else acc
    data, stat = client.get(path)
    acc[path] = (data, stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime, stat.version,
                 stat.cversion, stat.ephemeralOwner, stat.numChildren)
    for child in sorted(client.get_children(path)):
        full = path.rstrip("/") + "/" + child
        if full != "/zookeeper":
            snapshot_tree(client, full, acc)
    return acc


def connect(port, timeout=60.0, auth=True):
    client = kazoo.KazooClient(hosts="127.0.0.1:%d" % port, timeout=20.0,
                               auth_data=[("digest", "ops:secret")] if auth else None)
    client.start(timeout=timeout)
    return client


def wait_serving(port, what, timeout=90.0, proc=None, log=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail("%s exited with %s during start-up:\n%s"
                        % (what, proc.returncode, log() if log else ""), pytrace=False)
        try:
            last = four_letter(port, "srvr", timeout=2.0)
            if "\nMode: " in last:
                return last
        except OSError as e:
            last = repr(e)
        time.sleep(0.2)
    pytest.fail("%s not serving on %d within %.0fs (last: %r)%s"
                % (what, port, timeout, last, "\n" + log() if log else ""), pytrace=False)


def wait_port_closed(port, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            four_letter(port, "ruok", timeout=1.0)
        except OSError:
            return
        time.sleep(0.2)
    pytest.fail("port %d still answers after %.0fs" % (port, timeout), pytrace=False)


def sha(root, path):
    return hashlib.sha256(root.read(path).encode()).hexdigest()


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """Builds the package with cargo-deb (the release build is reused)."""
    need(has_cargo_deb(), "cargo-deb not installed (cargo install cargo-deb)")
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run([cargo(), "deb", "--strip", "--output", str(out)], cwd=REPO, capture_output=True, timeout=1800)
    assert p.returncode == 0, "cargo deb failed:\n%s" % (p.stdout + p.stderr).decode(errors="replace")
    debs = list(out.glob("zookeeper-rs_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


@pytest.fixture(scope="module")
def java_debs(tmp_path_factory):
    """Java's server packages, as apt fetches them (to go back offline)."""
    out = tmp_path_factory.mktemp("java-debs")
    p = subprocess.run(["apt-get", "download"] + list(JAVA_DEBS), cwd=out, capture_output=True, timeout=300)
    files = sorted(out.glob("*.deb"))
    need(p.returncode == 0 and len(files) == len(JAVA_DEBS),
         "apt-get download %s failed: %s" % (" ".join(JAVA_DEBS), (p.stdout + p.stderr).decode(errors="replace")))
    return files


@pytest.fixture
def root(tmp_path):
    need(os.geteuid() == 0, "needs root (namespaces, overlayfs, dpkg)")
    need(shutil.which("unshare") and shutil.which("nsenter"), "util-linux unshare/nsenter")
    need(ZK_JAR.exists() and ZKCLI.exists(), "Debian's Java ZooKeeper (zookeeper, libzookeeper-java)")
    host_before = {p: p.stat().st_mtime_ns for p in (ZK_JAR, ZKCLI)}
    r = OverlayRoot(tmp_path)
    try:
        # Maintainer scripts must not start services in the root (the
        # Debian convention for chroots); the test starts them itself.
        r.run("printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d")
        yield r
    finally:
        r.close()
        # The machine's own Java ZooKeeper never changed.
        assert {p: p.stat().st_mtime_ns for p in (ZK_JAR, ZKCLI)} == host_before


class UnitProcess:
    """The unit's ExecStart= command line, run as systemd would run it."""

    def __init__(self, root, unit_text, log_path):
        entries = parse_unit(unit_text)
        (exec_start,) = unit_values(entries, "Service", "ExecStart")
        assert exec_start[0] not in "-@+!:", "ExecStart prefix not handled here: %s" % exec_start
        self.argv = shlex.split(exec_start)
        (user,) = unit_values(entries, "Service", "User")
        (group,) = unit_values(entries, "Service", "Group")
        pw = passwd_entry(root, user)
        assert pw is not None, "unit's User=%s does not exist" % user
        env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8", "USER": user, "LOGNAME": user,
               "HOME": pw[5], "SHELL": pw[6]}
        for value in unit_values(entries, "Service", "Environment"):
            for assignment in shlex.split(value):
                k, _, v = assignment.partition("=")
                env[k] = v
        assert not unit_values(entries, "Service", "WorkingDirectory")  # systemd's default: /
        self.log_path = log_path
        log = open(log_path, "wb")
        self.proc = subprocess.Popen(root.argv(self.argv, user=(user, group), env=env),
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def log(self, tail=6000):
        text = Path(self.log_path).read_text(errors="replace")
        return text if tail is None else text[-tail:]

    def stop(self, timeout=30.0):
        """systemctl stop: SIGTERM (KillMode=control-group: the whole
        process; here the chain nsenter -> chroot -> env -> setpriv execs
        into the command, so nsenter's child is the server)."""
        nsenter_children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid))
        pids = [int(p) for p in nsenter_children.read_text().split()] if nsenter_children.exists() else []
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)
            pytest.fail("the unit's process ignored SIGTERM for %.0fs:\n%s" % (timeout, self.log()),
                        pytrace=False)


JAVA_DATA = {
    "/app": b"config v1",
    "/app/feature-flags": b'{"a": true}',
    "/app/empty": b"",
    "/binary": bytes(range(256)) * 64,
}


def write_java_data(client):
    for path, data in JAVA_DATA.items():
        client.create(path, data)
    for i in range(3):
        client.create("/app/queue/item-", b"%d" % i, sequence=True, makepath=True)
    client.create("/secret", b"s3cret", acl=[make_digest_acl("ops", "secret", all=True)])
    client.set("/app", b"config v1.1")
    client.delete("/app/empty")


def test_switch_from_java_and_back(root, deb, java_debs, tmp_path):
    port, admin_port = free_port(), free_port()

    # ---- Debian's Java ZooKeeper, configured by the operator --------------
    for f in java_debs:
        root.copy_in(f, "/tmp/" + f.name)
    # zookeeperd: Java's service package (its init script starts Java).
    root.run("dpkg -i /tmp/zookeeperd_*.deb")
    root.run("cd /etc/zookeeper/conf && "
             "sed -i -e 's|^dataDir=.*|dataDir=/var/lib/zookeeper|' -e 's|^clientPort=.*|clientPort=%d|' zoo.cfg && "
             "printf 'admin.serverPort=%d\\n4lw.commands.whitelist=*\\n' >> zoo.cfg && echo 1 > myid"
             % (port, admin_port))
    conf_sha = {f: sha(root, "/etc/zookeeper/conf/" + f) for f in ("zoo.cfg", "myid")}
    root.run("/etc/init.d/zookeeper start")
    wait_serving(port, "Java (/etc/init.d/zookeeper start)")
    client = connect(port)
    try:
        write_java_data(client)
        java_tree = snapshot_tree(client)
    finally:
        client.stop()
        client.close()
    root.run("/etc/init.d/zookeeper stop")
    wait_port_closed(port)
    data_files = root.run("ls /var/lib/zookeeper/version-2").split()
    assert any(f.startswith("log.") for f in data_files), data_files

    # ---- switch: dpkg -i ours -------------------------------------------------
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Conflicts", "Replaces", "Provides"],
                          capture_output=True, text=True, check=True).stdout
    for field in ("Conflicts", "Replaces", "Provides"):
        assert "%s: zookeeperd, zookeeper" % field in info, info
    root.copy_in(deb, "/tmp/zookeeper-rs.deb")
    out = root.run("dpkg -i /tmp/zookeeper-rs.deb")
    assert "in favour of zookeeper-rs" in out, out
    status = root.run("dpkg-query -W -f '${Package} ${db:Status-Status}\\n' zookeeper zookeeperd zookeeper-rs")
    assert sorted(status.splitlines()) == ["zookeeper config-files", "zookeeper-rs installed",
                                           "zookeeperd config-files"], status
    # Config, myid and data as they were; the service enabled.
    assert {f: sha(root, "/etc/zookeeper/conf/" + f) for f in conf_sha} == conf_sha
    assert root.read("/var/lib/zookeeper/myid").strip() == "1"
    assert root.run("ls /var/lib/zookeeper/version-2").split() == data_files
    assert root.run("stat -c %U /var/lib/zookeeper /var/log/zookeeper").split() == ["zookeeper"] * 2
    root.run("test -L /etc/systemd/system/multi-user.target.wants/zookeeper.service")
    unit_text = root.read(UNIT)
    # systemd's own check of the installed unit (keys, ExecStart executable, User).
    root.run("systemd-analyze verify %s" % UNIT)

    # ---- the unit's command line, as the unit's user ----------------------
    server = UnitProcess(root, unit_text, tmp_path / "unit.log")
    try:
        srvr = wait_serving(port, "the unit's ExecStart", proc=server.proc, log=server.log)
        assert "zookeeper-rs" in srvr, srvr
        assert "Mode: standalone" in root.run("/usr/share/zookeeper/bin/zkServer.sh status")
        # Java's data tools, installed: the toolkit reads the log Java wrote.
        dump = root.run("/usr/share/zookeeper/bin/zkTxnLogToolkit.sh /var/lib/zookeeper/version-2/log.1")
        assert " create /app,config v1," in dump and "EOF reached after" in dump, dump
        client = connect(port)
        try:
            assert snapshot_tree(client) == java_tree
            anonymous = connect(port, auth=False)
            try:
                with pytest.raises(NoAuthError):
                    anonymous.get("/secret")
            finally:
                anonymous.stop()
                anonymous.close()
            client.set("/app", b"config v2")
            client.create("/written-by-rust", b"rs")
            rust_tree = snapshot_tree(client)
        finally:
            client.stop()
            client.close()
        # zkCli.sh still works: the package's runs Java's client.
        cli = root.run("/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:%d get /written-by-rust" % port)
        assert "\nrs\n" in cli, cli
    finally:
        code = server.stop()
    assert code == 0, "exit %s after SIGTERM:\n%s" % (code, server.log())
    assert "Using config: /etc/zookeeper/conf/zoo.cfg" in server.log(tail=None)

    # ---- remove ours: nothing of it left, config and data kept ------------
    files = root.run("dpkg -L zookeeper-rs").split()
    root.run("dpkg -r zookeeper-rs")
    # A package with a postrm stays known until purged; purging it keeps
    # the config, the data and the user (they are the operator's).
    assert root.run("dpkg-query -W -f '${db:Status-Status}' zookeeper-rs") == "config-files"
    root.run("dpkg -P zookeeper-rs")
    assert root.run("dpkg-query -W -f '${db:Status-Status}' zookeeper-rs 2>&1 || true").strip() \
        in ("not-installed", "dpkg-query: no packages found matching zookeeper-rs")
    assert set(data_files) <= set(root.run("ls /var/lib/zookeeper/version-2").split())
    assert passwd_entry(root, "zookeeper") is not None
    # No mask or enablement link of ours left to stop Java's service.
    assert root.run("ls /etc/systemd/system /etc/systemd/system/multi-user.target.wants 2>/dev/null | "
                    "grep zookeeper || true").strip() == ""
    assert "/usr/share/zookeeper/bin/zk-server" in files and UNIT in files
    left = [f for f in files if f.startswith(("/usr/share/zookeeper/bin/", "/usr/lib/systemd/"))
            and root.run("if [ -f %s ] || [ -L %s ]; then echo yes; fi" % (f, f)).strip()]
    assert left == [], left
    assert {f: sha(root, "/etc/zookeeper/conf_example/" + f) for f in conf_sha} == conf_sha

    # ---- back to Java: the README's command, from the fetched .debs -------
    root.run("cp /tmp/zookeeper_*.deb /tmp/zookeeperd_*.deb /var/cache/apt/archives/")
    root.run("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download zookeeper zookeeperd")
    assert {f: sha(root, "/etc/zookeeper/conf/" + f) for f in conf_sha} == conf_sha
    root.run("/etc/init.d/zookeeper start")
    wait_serving(port, "Java again (/etc/init.d/zookeeper start)")
    try:
        client = connect(port)
        try:
            assert snapshot_tree(client) == rust_tree
        finally:
            client.stop()
            client.close()
        cli = root.run("/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:%d get /app" % port)
        assert "\nconfig v2\n" in cli, cli
    finally:
        root.run("/etc/init.d/zookeeper stop", check=False)


def test_fresh_install_without_java(root, deb, tmp_path):
    """A machine that never had Java's server package: ours creates the
    zookeeper user, the directories, a default config as the
    zookeeper-conf alternative, and the unit serves on it."""
    root.run("dpkg -P zookeeper")   # Java's purge: its user, data and config go
    assert passwd_entry(root, "zookeeper") is None
    assert root.run("ls -d /etc/zookeeper/conf /var/lib/zookeeper 2>/dev/null || true").strip() == ""
    root.copy_in(deb, "/tmp/zookeeper-rs.deb")
    root.run("dpkg -i /tmp/zookeeper-rs.deb")
    pw = passwd_entry(root, "zookeeper")
    assert pw is not None and pw[5] == "/var/lib/zookeeper" and pw[6] == "/bin/false", pw
    assert root.run("readlink -f /etc/zookeeper/conf").strip() == "/etc/zookeeper/conf_example"
    cfg = root.read("/etc/zookeeper/conf/zoo.cfg")
    assert "\ndataDir=/var/lib/zookeeper\n" in cfg and "\nclientPort=2181\n" in cfg, cfg
    assert root.run("stat -c '%U %a' /var/lib/zookeeper").split() == ["zookeeper", "750"]
    # The operator moves the ports (2181 and 8080 belong to others here).
    port, admin_port = free_port(), free_port()
    root.run("sed -i -e 's|^clientPort=.*|clientPort=%d|' /etc/zookeeper/conf/zoo.cfg && "
             "echo admin.serverPort=%d >> /etc/zookeeper/conf/zoo.cfg" % (port, admin_port))
    server = UnitProcess(root, root.read(UNIT), tmp_path / "unit.log")
    try:
        wait_serving(port, "the unit's ExecStart", proc=server.proc, log=server.log)
        client = connect(port, auth=False)
        try:
            client.create("/fresh", b"1")
        finally:
            client.stop()
            client.close()
    finally:
        code = server.stop()
    assert code == 0, server.log()
    assert "log.1" in root.run("ls /var/lib/zookeeper/version-2").split()
    assert root.run("stat -c %U /var/lib/zookeeper/version-2/log.1").strip() == "zookeeper"
