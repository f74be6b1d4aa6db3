"""scripts/zkSnapshotComparer.sh and scripts/zkSnapshotRecursiveSummaryToolkit.sh
against Java's own tools on the same snapshot files.

The snapshots are written by Java 3.8.0 and by ours (the same workload:
wide and deep subtrees, non-ASCII names,
ephemerals of a live session, a quota whose stored stats are stale, and
deletes), several per server (a small snapCount), ours also gzip- and
snappy-compressed. Java's comparer is Debian's (3.8.0 has it); Java's
recursive summary first shipped in 3.9, so its source is taken from the
ZooKeeper git mirror and compiled against Debian's 3.8.0 jar at test time.

Outputs are compared byte for byte; the only normalisation is the time
each step took (`in 0.001234 seconds`).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, ZK_JAR, ZkServer, java_available, need, require_impl

kazoo = pytest.importorskip("kazoo.client")

COMPARER = REPO / "scripts" / "zkSnapshotComparer.sh"
SUMMARY = REPO / "scripts" / "zkSnapshotRecursiveSummaryToolkit.sh"
MIRROR = Path(os.environ.get("ZK_JAVA_MIRROR", "/work/.mirror/apache+zookeeper/repo"))
# The last revision of Java's tool before FileSnap.deserialize became
# static (ZOOKEEPER-4682), i.e. the one that compiles against 3.8.0.
SUMMARY_REVISION = "629518b5e"
SUMMARY_SOURCE = "zookeeper-server/src/main/java/org/apache/zookeeper/server/SnapshotRecursiveSummary.java"
SECONDS = re.compile(rb"in \d+\.\d+ seconds")
JAVA_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}


def workload(hosts, extra):
    """Writes the same tree on either server; returns once `extra` snapshots
    beyond the first should exist (snapCount=10)."""
    zk = kazoo.KazooClient(hosts=hosts, timeout=20.0)
    zk.start(timeout=30)
    zk.create("/wide")
    for i in range(40):
        zk.create("/wide/n%d" % i, b"x" * i)
    zk.create("/deep/a/b/c/d/e", b"leaf", makepath=True)
    for name in ("\uFF5E", "\u4e2d", "h\u00e9llo", "Z", "a-b"):
        zk.create("/" + name, name.encode())
    # A quota whose stats node holds stale text: loading recomputes it.
    zk.create("/q/x/y", b"12345", makepath=True)
    zk.create("/zookeeper/quota/q/zookeeper_limits", b"count=10,bytes=-1", makepath=True)
    zk.create("/zookeeper/quota/q/zookeeper_stats", b"count=1,bytes=0")
    zk.create("/eph", b"ephemeral", ephemeral=True)
    for i in range(extra * 10):
        zk.set("/wide/n%d" % (i % 40), b"y" * (i % 17))
        if i % 7 == 0 and zk.exists("/wide/n%d" % i):
            zk.delete("/wide/n%d" % i)
    return zk


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory):
    """Snapshot files written by Java 3.8.0 and by ours."""
    need(java_available(), "Java ZooKeeper")
    require_impl("rust")
    files = []
    for impl, flags in (("java", []), ("rust", []),
                        ("rust", ["-Dzookeeper.snapshot.compression.method=gz"]),
                        ("rust", ["-Dzookeeper.snapshot.compression.method=snappy"])):
        srv = ZkServer(impl, tmp_path_factory.mktemp("snap-" + impl), {"snapCount": "10"}, flags=flags)
        srv.start()
        try:
            zk = workload(srv.hosts, 4)
            zk.stop()
            zk.close()
        finally:
            srv.stop()
        found = sorted((srv.data_dir / "version-2").glob("snapshot.*"),
                       key=lambda p: int(p.name.split(".")[1], 16))
        assert len(found) >= 3, (impl, found)
        files.append(found)
    return files


@pytest.fixture(scope="module")
def summary_classes(tmp_path_factory):
    """Java's SnapshotRecursiveSummary, compiled against Debian's 3.8.0 jar."""
    need(java_available(), "Java ZooKeeper")
    need(MIRROR.is_dir(), "the ZooKeeper git mirror (%s, ZK_JAVA_MIRROR)" % MIRROR)
    work = tmp_path_factory.mktemp("summary-java")
    source = work / "src" / "org" / "apache" / "zookeeper" / "server" / "SnapshotRecursiveSummary.java"
    source.parent.mkdir(parents=True)
    text = subprocess.run(["git", "--git-dir", str(MIRROR), "show", "%s:%s" % (SUMMARY_REVISION, SUMMARY_SOURCE)],
                          check=True, capture_output=True, timeout=60).stdout
    source.write_bytes(text)
    classes = work / "classes"
    subprocess.run(["javac", "-nowarn", "-cp", str(ZK_JAR), "-d", str(classes), str(source)],
                   check=True, capture_output=True, timeout=120)
    return classes


def java(main, args, classpath=(), stdin=b""):
    cp = ":".join([str(c) for c in classpath] + [str(ZK_JAR), "/usr/share/java/slf4j-nop.jar"])
    p = subprocess.run(["java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                        "-Dsun.stdout.encoding=UTF-8", "-Dfile.encoding=UTF-8", "-cp", cp,
                        "org.apache.zookeeper.server." + main] + [str(a) for a in args],
                       input=stdin, capture_output=True, timeout=120, env=dict(os.environ, **JAVA_ENV))
    return p.returncode, SECONDS.sub(b"in <t> seconds", p.stdout), p.stderr


def ours(script, args, stdin=b""):
    env = dict(os.environ, ZK_SERVER_BIN=os.environ.get("ZK_RUST_BIN") or str(REPO / "target/release/zk-server"))
    p = subprocess.run([str(script)] + [str(a) for a in args], input=stdin, capture_output=True,
                       timeout=120, env=env)
    return p.returncode, SECONDS.sub(b"in <t> seconds", p.stdout), p.stderr


def assert_same(j, r):
    (jc, jo, je), (rc, ro, re_) = j, r
    assert ro == jo, "stdout differs:\njava:\n%s\nours:\n%s" % (jo.decode(errors="replace"),
                                                             ro.decode(errors="replace"))
    assert rc == jc, (jc, rc, je, re_)
    # An error is reported on stderr by both, with the same exception class.
    assert bool(je.strip()) == bool(re_.strip()), (je, re_)
    if je.strip():
        assert je.split(b":")[0] == re_.split(b":")[0], (je, re_)
    return jo


def compare(args, stdin=b""):
    return assert_same(java("SnapshotComparer", args, stdin=stdin), ours(COMPARER, args, stdin=stdin))


def test_comparer_on_java_and_our_snapshots(snapshots):
    java_snaps, ours_plain, ours_gz, ours_snappy = snapshots
    first, last = java_snaps[0], java_snaps[-1]
    out = compare(["-l", first, "-r", last, "-b", "2", "-n", "1"])
    text = out.decode()
    assert "Node /wide found only in right tree. Descendant size: " in text, text
    assert "Node /\uFF5E found only in right tree." in text, text
    assert text.index("/\u4e2d found") < text.index("/\uFF5E found"), text
    assert text.endswith("All layers compared.\n")
    # Every pair of consecutive snapshots, both directions, debug output.
    for a, b in zip(java_snaps, java_snaps[1:]):
        compare(["-l", b, "-r", a, "-b", "0", "-n", "0", "-d"])
    # Our snapshots (plain, gzip, snappy), against Java's and each other.
    compare(["--left", ours_plain[-1], "--right", last, "--bytes", "0", "--nodes", "0", "--debug"])
    compare(["-l", ours_gz[1], "-r", ours_snappy[-1], "-b", "3", "-n", "0"])
    compare(["-l", ours_plain[0], "-r", ours_gz[-1], "-b", "-1", "-n", "-1"])


def test_comparer_interactive(snapshots):
    java_snaps, ours_plain = snapshots[0], snapshots[1]
    answers = "\n3\n/wide\n/nope\nabc\n99\n-1\n+2\n/deep/a\r\n\n\n\n\n\n\n".encode()
    out = compare(["-l", java_snaps[0], "-r", ours_plain[-1], "-b", "1", "-n", "0", "-i"], answers)
    text = out.decode()
    assert "Depth must be in range [0, " in text and "Input abc is not valid." in text, text
    assert "Path /nope is neither found in left tree nor right tree." in text, text
    # Input ends before the last layer: both fail the same way.
    compare(["-l", java_snaps[0], "-r", ours_plain[-1], "-b", "1", "-n", "0", "-i"], b"\n")


def test_comparer_options_and_errors(snapshots, tmp_path):
    s = snapshots[0][-1]
    for args in ([], ["-l", s], ["-q"], ["--nope"], ["-l", s, "-r", s, "-b", "1", "-n"],
                 ["-left", s, "-r", s, "-b5", "--no=0", "-di", "extra"],
                 ["-l", s, "-r", s, "-b", "x", "-n", "0"],
                 ["-l", s, "-r", tmp_path / "missing", "-b", "1", "-n", "0"]):
        compare(args, b"\n" * 10)


def summarise(classes, args):
    return assert_same(java("SnapshotRecursiveSummary", args, classpath=[classes]), ours(SUMMARY, args))


def test_recursive_summary(snapshots, summary_classes):
    java_snaps, ours_plain, ours_gz, ours_snappy = snapshots
    for snap in (java_snaps[-1], java_snaps[0], ours_plain[-1], ours_gz[-1], ours_snappy[1]):
        out = summarise(summary_classes, [snap, "/", "0"])
        assert out.startswith(b" /\n   children: "), out
    last = java_snaps[-1]
    text = summarise(summary_classes, [last, "/", "2"]).decode()
    # The quota's stats were recomputed on load (stored: "count=1,bytes=0").
    assert "---- /zookeeper/quota\n" in text, text
    for args in ([last, "/deep", "0"], [last, "/deep", "3"], [last, "/wide", "1"], [last, "", "1"],
                 [last, "/", "-1"], [last, "/wide/n1", "0"], [last, "/missing", "0"], [last, "/", "x"],
                 [last, "/"], [], [Path(last).parent / "missing", "/", "0"]):
        summarise(summary_classes, args)


def test_tools_read_a_snapshot_as_far_as_the_tree(snapshots, summary_classes, tmp_path):
    """Java's tools read a snapshot up to the end of the tree and check no
    seal: a file cut after its tree (its digest section and seals torn) is
    still compared and summarised, by both."""
    last = snapshots[0][-1]
    torn = tmp_path / last.name
    # Keeps 3 bytes of the seal after the tree: the digest section and
    # both seals are gone.
    torn.write_bytes(last.read_bytes()[:-30])
    out = compare(["-l", snapshots[0][0], "-r", torn, "-b", "0", "-n", "0"])
    assert b"All layers compared." in out
    out = summarise(summary_classes, [torn, "/", "0"])
    assert out.startswith(b" /\n   children: ")
