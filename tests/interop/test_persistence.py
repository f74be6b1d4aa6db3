"""dataDir compatibility with Java ZooKeeper 3.8.0, both ways.

Java -> ours: Java serves a workload (every create mode, sets, deletes, ACLs,
multi, failed ops, ephemerals of a live session, a few thousand nodes) with
snapCount=100 so it snapshots and rolls its log; it stops; our inspection
tools check every checksum and seal of its files and rebuild the same tree
(`datadir-dump`), and our server started on that dataDir serves it.

Ours -> Java: the same workload on our server; Java's SnapshotFormatter and
TxnLogToolkit read our files without error, and Java's server started on our
dataDir serves the same tree.

Each direction runs with plain, gz and snappy snapshots. Trees are compared
node by node: path, data, ACL and every Stat field.
"""

import base64
import json
import os
import subprocess
import time

import pytest

from conftest import RUST_BIN, JAVA_LIB, ZkServer, java_available, need
from rawzk import OP_CREATE_CONTAINER, RawZk, p_acl, p_buffer, p_int, p_string, OPEN_ACL_UNSAFE

kazoo = pytest.importorskip("kazoo.client")
from kazoo.security import make_digest_acl  # noqa: E402

NODES = 2000
CODECS = ["", "gz", "snappy"]


def extra_cfg(codec):
    cfg = {"snapCount": "100", "preAllocSize": "512", "maxSessionTimeout": "60000"}
    if codec:
        cfg["snapshot.compression.method"] = codec
    return cfg


def require_both():
    need(java_available(), "Java ZooKeeper not installed")
    need(RUST_BIN.is_file(), "our binary %s is not built" % RUST_BIN)


def run_workload(srv):
    """Writes the workload; returns the still-connected kazoo client that owns
    the ephemerals (the caller stops the server before closing it)."""
    zk = kazoo.KazooClient(hosts=srv.hosts, timeout=40.0)
    zk.start(timeout=20)
    zk.create("/app", b"root of the workload")
    for i in range(NODES):
        zk.create("/app/n%05d" % i, ("value %d" % i).encode())
    for i in range(30):
        zk.create("/app/seq-", b"s", sequence=True)
    for i in range(10):
        zk.create("/app/eph%02d" % i, b"e", ephemeral=True)
        zk.create("/app/ephseq-", b"es", ephemeral=True, sequence=True)
    for i in range(0, NODES, 7):
        zk.set("/app/n%05d" % i, b"updated %d" % i)
    for i in range(0, NODES, 11):
        zk.delete("/app/n%05d" % i)
    secret = make_digest_acl("user", "pw", all=True)
    zk.create("/secure", b"s", acl=[secret])
    zk.set_acls("/app/n00001", [secret, make_digest_acl("ro", "pw", read=True)])
    zk.create("/empty")  # no data
    t = zk.transaction()
    t.create("/multi", b"m")
    t.create("/multi/a", b"a")
    t.set_data("/app/n00002", b"from multi")
    t.delete("/app/n00003")
    t.check("/app/n00004", 0)
    results = t.commit()
    assert not any(isinstance(r, Exception) for r in results), results
    failing = zk.transaction()
    failing.create("/never", b"x")
    failing.check("/app/n00004", 99)
    failing.commit()  # an error multi: logged, changes nothing
    with pytest.raises(Exception):
        zk.create("/app/n00004", b"exists")  # an error txn
    raw = RawZk("127.0.0.1", srv.port).connect(timeout_ms=30000)
    body = p_string("/container") + p_buffer(b"c") + p_acl(OPEN_ACL_UNSAFE) + p_int(4)
    raw.call(OP_CREATE_CONTAINER, body)
    raw.create("/container/child", b"keeps the container")
    raw.create_ttl("/ttl", b"t", 3600 * 1000)
    raw.close_socket()
    return zk


def live_dump(srv):
    """Every node as the server shows it to a client."""
    zk = kazoo.KazooClient(hosts=srv.hosts, timeout=20.0, auth_data=[("digest", "user:pw")])
    zk.start(timeout=20)
    out = {}
    try:
        stack = ["/"]
        while stack:
            path = stack.pop()
            data, stat = zk.get(path)
            acls, _ = zk.get_acls(path)
            out[path] = {
                "data": base64.b64encode(data or b"").decode(),
                "acl": sorted((a.perms, a.id.scheme, a.id.id) for a in acls),
                "stat": {k: getattr(stat, k) for k in (
                    "czxid", "mzxid", "ctime", "mtime", "version", "cversion",
                    "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid")},
            }
            for child in zk.get_children(path):
                stack.append(path.rstrip("/") + "/" + child)
    finally:
        zk.stop()
        zk.close()
    return out


def tool(*args, check=True):
    proc = subprocess.run([str(RUST_BIN)] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail("zk-server %s exited %d\nstdout:\n%s\nstderr:\n%s"
                    % (" ".join(map(str, args)), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return proc


def our_dump(data_dir):
    """The tree our code rebuilds from a dataDir (snapshot + log replay)."""
    doc = json.loads(tool("datadir-dump", data_dir, "--json").stdout)
    return {
        n["path"]: {
            "data": n["data"] or "",
            "acl": sorted((a["perms"], a["scheme"], a["id"]) for a in n["acl"]),
            "stat": n["stat"],
        }
        for n in doc["nodes"]
    }


def assert_same_tree(got, expected, what):
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing and not extra, "%s: missing %s, extra %s" % (what, missing[:10], extra[:10])
    diffs = [(p, expected[p], got[p]) for p in sorted(expected) if expected[p] != got[p]]
    assert not diffs, "%s: %d nodes differ, first: %r" % (what, len(diffs), diffs[:3])


def version2(srv):
    return srv.data_dir / "version-2"


def files(srv, prefix):
    return sorted(p for p in version2(srv).iterdir() if p.name.startswith(prefix + "."))


def fill_and_stop(impl, workdir, codec):
    """Runs the workload on a fresh `impl` server, stops it and the owner
    session; returns the stopped server and the live tree it served."""
    srv = ZkServer(impl, workdir, extra_cfg(codec))
    srv.start()
    try:
        owner = run_workload(srv)
        expected = live_dump(srv)
    finally:
        srv.stop()
    owner.stop()
    owner.close()
    return srv, expected


@pytest.mark.parametrize("codec", CODECS)
def test_java_datadir_is_read_here(tmp_path, codec):
    require_both()
    java, expected = fill_and_stop("java", tmp_path / "java", codec)
    assert len(expected) > NODES * 9 // 10
    snaps = files(java, "snapshot")
    assert len(files(java, "log")) >= 2 and len(snaps) >= 2, "Java rolled its log and snapshotted"
    if codec:
        assert all(s.name.endswith("." + codec) for s in snaps if s.name != "snapshot.0")

    report = tool("datadir-check", java.data_dir).stdout
    assert report.rstrip().endswith("OK"), report
    assert " 0 mismatches" in report, report
    assert_same_tree(our_dump(java.data_dir), expected, "Java dataDir rebuilt by our tools")

    ours = ZkServer("rust", tmp_path / "java", extra_cfg(codec))  # same workdir and dataDir
    ours.data_dir = java.data_dir
    ours.start()
    try:
        served = live_dump(ours)
    finally:
        ours.stop()
    assert_same_tree(served, expected, "Java dataDir served by our server")


def java_tool(cls, *args):
    cp = str(JAVA_LIB / "*")
    proc = subprocess.run(["java", "-Xmx256m", "-cp", cp, cls] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=300)
    return proc


@pytest.mark.parametrize("codec", CODECS)
def test_our_datadir_is_read_by_java(tmp_path, codec):
    require_both()
    ours, expected = fill_and_stop("rust", tmp_path / "ours", codec)
    snaps = files(ours, "snapshot")
    logs = files(ours, "log")
    assert len(logs) >= 2 and len(snaps) >= 2, "we rolled the log and snapshotted"

    for snap in snaps:
        proc = java_tool("org.apache.zookeeper.server.SnapshotFormatter", snap)
        assert proc.returncode == 0 and "Exception" not in proc.stderr + proc.stdout, (snap, proc.stderr[-3000:])
        assert "Last zxid" in proc.stdout, proc.stdout[-2000:]
    for log in logs:
        proc = java_tool("org.apache.zookeeper.server.persistence.TxnLogToolkit", "--dump", log)
        assert proc.returncode == 0, (log, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "EOF reached after" in proc.stdout and "CRC" not in proc.stdout, proc.stdout[-2000:]

    report = tool("datadir-check", ours.data_dir).stdout
    assert report.rstrip().endswith("OK"), report

    java = ZkServer("java", tmp_path / "ours", extra_cfg(codec))
    java.data_dir = ours.data_dir
    java.start()
    try:
        served = live_dump(java)
    finally:
        java.stop()
    assert_same_tree(served, expected, "our dataDir served by Java")


def test_acknowledged_writes_survive_sigkill(tmp_path):
    """Durability: every write acknowledged before a SIGKILL is there
    after the restart, several times over."""
    need(RUST_BIN.is_file(), "our binary %s is not built" % RUST_BIN)
    srv = ZkServer("rust", tmp_path / "crash", {"snapCount": "500", "preAllocSize": "64"})
    acked = []
    for round_ in range(3):
        srv.start()
        zk = kazoo.KazooClient(hosts=srv.hosts, timeout=10.0, connection_retry=None, command_retry=None)
        zk.start(timeout=20)
        deadline = time.monotonic() + 1.5
        i = 0
        try:
            while time.monotonic() < deadline:
                path = "/r%d-%06d" % (round_, i)
                zk.create(path, b"x" * (i % 200))
                acked.append(path)
                i += 1
        finally:
            srv.kill()
            zk.stop()
            zk.close()
        assert i > 10
        srv.start()
        zk = kazoo.KazooClient(hosts=srv.hosts, timeout=10.0)
        zk.start(timeout=20)
        present = set(zk.get_children("/"))
        zk.stop()
        zk.close()
        lost = [p for p in acked if p[1:] not in present]
        assert not lost, "round %d: %d acknowledged creates lost, first %s" % (round_, len(lost), lost[:5])
        srv.stop()
