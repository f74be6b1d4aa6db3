"""scripts/zkTxnLogToolkit.sh against Java 3.8.0's TxnLogToolkit on the same
files: the dump of a log Java wrote (every txn type a client can cause),
CRC errors, recovery (-r with -y, with answers, -v; the .fixed file
byte-equal to Java's, and Java's server loads it), chop (-c -z), help and
errors. Outputs are compared byte for byte after replacing the date at the
start of each txn line (Java prints it in the JVM's zone and locale).
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, ZK_JAR, ZkServer, java_available, need, require_impl

kazoo = pytest.importorskip("kazoo.client")
from kazoo.security import make_digest_acl  # noqa: E402
from rawzk import (OP_CREATE_CONTAINER, OP_CREATE_TTL, OPEN_ACL_UNSAFE, RawZk, p_acl, p_buffer,  # noqa: E402
                   p_int, p_long, p_string)

SCRIPT = REPO / "scripts" / "zkTxnLogToolkit.sh"
DATE = re.compile(rb"\d+/\d+/\d+, \d+:\d\d:\d\d [AP]M [A-Z]+")
JAVA_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}


def java_tool(args, cwd, stdin=b""):
    cmd = ["java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-Dsun.stdout.encoding=UTF-8", "-Dfile.encoding=UTF-8",
           "-cp", "%s:/usr/share/java/slf4j-nop.jar" % ZK_JAR,
           "org.apache.zookeeper.server.persistence.TxnLogToolkit"] + args
    p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, timeout=120,
                       env=dict(os.environ, **JAVA_ENV))
    return p.returncode, DATE.sub(b"<date>", p.stdout), p.stderr


def our_tool(args, cwd, stdin=b""):
    env = dict(os.environ, ZK_SERVER_BIN=os.environ.get("ZK_RUST_BIN") or str(REPO / "target/release/zk-server"))
    p = subprocess.run([str(SCRIPT)] + args, cwd=cwd, input=stdin, capture_output=True, timeout=120, env=env)
    return p.returncode, DATE.sub(b"<date>", p.stdout), p.stderr


@pytest.fixture(scope="module")
def java_log(tmp_path_factory):
    """A txn log written by Java 3.8.0: every kind of txn clients cause."""
    need(java_available(), "Java ZooKeeper")
    require_impl("rust")
    srv = ZkServer("java", tmp_path_factory.mktemp("toolkit-java"), {"extendedTypesEnabled": "true"})
    srv.start()
    try:
        zk = kazoo.KazooClient(hosts=srv.hosts, timeout=20.0, auth_data=[("digest", "u:p")])
        zk.start(timeout=30)
        zk.create("/plain", b"hello, world}\n%")
        zk.create("/bin", bytes([0, 1, 0xFF, 0xC3, 0x28, 0xE2, 0x82, 0xAC, 0xF0, 0x9F]) + "héllo".encode())
        zk.create("/empty")
        zk.create("/acl", b"x", acl=[make_digest_acl("u", "p", all=True), make_digest_acl("v", "q", read=True)])
        zk.set_acls("/acl", [make_digest_acl("u", "p", all=True)])
        raw = RawZk("127.0.0.1", srv.port)
        raw.connect()
        create = p_buffer(b"t") + p_acl(OPEN_ACL_UNSAFE)
        assert raw.request(OP_CREATE_TTL, p_string("/ttl") + create + p_int(5) + p_long(600000))[0] == 0
        assert raw.request(OP_CREATE_CONTAINER, p_string("/container") + create + p_int(4))[0] == 0
        raw.close_session()
        zk.create("/eph", b"e", ephemeral=True)
        seq = zk.create("/seq-", b"s", sequence=True)
        zk.set("/plain", b"v2")
        zk.delete("/empty")
        t = zk.transaction()
        t.create("/m1", b"1")
        t.set_data("/plain", b"m")
        t.check("/plain", 2)
        t.delete(seq)
        t.commit()
        t = zk.transaction()
        t.create("/m2", b"2")
        t.delete("/missing")
        t.commit()
        zk.stop()
        zk.close()
    finally:
        srv.stop()
    logs = sorted((srv.data_dir / "version-2").glob("log.*"))
    assert len(logs) == 1, logs
    return logs[0]


def corrupt_crc(log, which):
    """Flips a bit in the stored checksum of the `which`-th records."""
    data = bytearray(log.read_bytes())
    pos, n = 16, 0
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "big")
        if length == 0:
            break
        if n in which:
            data[pos + 7] ^= 0x01
        pos += 12 + length + 1
        n += 1
    log.write_bytes(bytes(data))
    return n


def both(args, tmp_path, log, stdin=b""):
    """Runs Java's tool and ours on their own copies of `log`; returns both results and dirs."""
    results = {}
    for name, tool in (("java", java_tool), ("rust", our_tool)):
        d = tmp_path / name
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, d / log.name)
        results[name] = tool([a.replace("LOG", log.name) for a in args], d, stdin)
    return results


def assert_same(results):
    (jc, jo, je), (rc, ro, re_) = results["java"], results["rust"]
    assert ro == jo, "stdout differs:\njava:\n%s\nours:\n%s" % (jo.decode(errors="replace"), ro.decode(errors="replace"))
    assert rc == jc, (jc, rc, je, re_)
    return jo


def test_dump(java_log, tmp_path):
    out = assert_same(both(["LOG"], tmp_path, java_log))
    text = out.decode(errors="replace")
    assert text.startswith("ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n")
    for op in (" createSession ", " create /plain,hello, world}\n%,", " setACL '/acl,v{s{31,s{'digest,'u:",
               " delete '/empty\n", " multi create:", " closeSession v{'/eph}\n"):
        assert op in text, (op, text)
    assert re.search(r"EOF reached after \d+ txns.\n$", text)


def test_dump_with_crc_errors_and_options(java_log, tmp_path):
    log = tmp_path / java_log.name
    shutil.copy(java_log, log)
    assert corrupt_crc(log, {1, 4}) > 5
    out = assert_same(both(["-d", "LOG"], tmp_path / "dump", log))
    assert out.count(b"CRC ERROR - <date> session") == 2
    # Bundled and long options, help, errors.
    assert_same(both(["--dump", "LOG"], tmp_path / "long", log))
    assert_same(both(["-h"], tmp_path / "help", log))
    assert_same(both([], tmp_path / "none", log))
    r = both(["-q", "LOG"], tmp_path / "bad", log)
    assert_same(r)
    assert r["rust"][2] == r["java"][2] == b"Unrecognized option: -q\n\n"
    r = both(["missing.log"], tmp_path / "missing", log)
    assert_same(r)
    assert r["rust"][2] == r["java"][2]
    not_log = tmp_path / "notlog"
    not_log.mkdir()
    (not_log / "junk").write_bytes(b"JUNK" + bytes(40))
    r = both(["LOG"], not_log / "run", not_log / "junk")
    assert_same(r)
    assert r["rust"][2] == r["java"][2] == b"Invalid magic number for junk\n"


@pytest.mark.parametrize("args,answers", [
    (["-r", "-y", "LOG"], b""),
    (["--recover", "--yes", "--verbose", "LOG"], b""),
    (["-r", "LOG"], b"maybe yes\nno\n"),
    (["-rv", "LOG"], b"Y N\n"),
], ids=["yes", "yes-verbose", "answers", "answers-verbose"])
def test_recover(java_log, tmp_path, args, answers):
    log = tmp_path / java_log.name
    shutil.copy(java_log, log)
    corrupt_crc(log, {2, 5})
    r = both(args, tmp_path, log, answers)
    out = assert_same(r)
    assert re.search(rb"Recovery file \S+\.fixed has been written with \d fixed CRC error\(s\)\n$", out)
    java_fixed = (tmp_path / "java" / (log.name + ".fixed")).read_bytes()
    ours_fixed = (tmp_path / "rust" / (log.name + ".fixed")).read_bytes()
    assert ours_fixed == java_fixed
    # A second run refuses to overwrite the .fixed file.
    r2 = {name: r for name, r in both(args, tmp_path, log, answers).items()}
    assert_same(r2)
    assert r2["rust"][2] == r2["java"][2] and b"already exists" in r2["rust"][2]


def test_recover_abort(java_log, tmp_path):
    log = tmp_path / java_log.name
    shutil.copy(java_log, log)
    corrupt_crc(log, {3})
    r = both(["-r", "LOG"], tmp_path, log, b"abort\n")
    assert_same(r)
    assert r["rust"][2] == r["java"][2] == b"Recovery aborted.\n"


def test_recovered_log_loads_in_java(java_log, tmp_path):
    """The log ours fixed is the one Java serves: every write is there."""
    log = tmp_path / java_log.name
    shutil.copy(java_log, log)
    corrupt_crc(log, {1, 2, 3})
    code, _out, err = our_tool(["-r", "-y", log.name], tmp_path)
    assert code == 0, err
    srv = ZkServer("java", tmp_path / "srv")
    (srv.data_dir / "version-2").mkdir(parents=True)
    for snap in java_log.parent.glob("snapshot.*"):
        shutil.copy(snap, srv.data_dir / "version-2" / snap.name)
    shutil.copy(tmp_path / (log.name + ".fixed"), srv.data_dir / "version-2" / log.name)
    srv.start()
    try:
        zk = kazoo.KazooClient(hosts=srv.hosts, timeout=20.0, auth_data=[("digest", "u:p")])
        zk.start(timeout=30)
        try:
            assert zk.get("/plain")[0] == b"m"
            assert zk.exists("/m1") and not zk.exists("/m2") and not zk.exists("/empty")
            assert zk.get("/acl")[1].aversion == 1
        finally:
            zk.stop()
            zk.close()
    finally:
        srv.stop()


@pytest.mark.parametrize("zxid", ["0x5", "7", "0x100"], ids=["hex", "decimal", "missing"])
def test_chop(java_log, tmp_path, zxid):
    r = both(["-c", "-z", zxid, "LOG"], tmp_path, java_log)
    assert_same(r)
    name = "%s.chopped%d" % (java_log.name, int(zxid, 0))
    java_out, ours_out = tmp_path / "java" / name, tmp_path / "rust" / name
    assert java_out.exists() == ours_out.exists()
    if java_out.exists():
        assert ours_out.read_bytes() == java_out.read_bytes()
