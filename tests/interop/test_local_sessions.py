"""Local sessions (localSessionsEnabled, localSessionsUpgradingEnabled),
against a Java 3.8.0 ensemble and one of ours: three participants (sid 3
leads) with local sessions on, once with upgrading on and once off.

- Sessions that only read (on a follower and on the leader) make no
  createSession txn: the leader's txn log holds none of them, counted with
  our `zk-server txnlog-dump` and with Java's TxnLogToolkit (they must
  agree). `mntr` on the server holding them counts them as
  local_sessions; closing them brings it back.
- A persistent create keeps the session local; its first ephemeral create
  upgrades it: exactly one createSession txn for it in the log, the
  session becomes a global one, its ephemeral is seen from other servers
  with the session as owner and goes away when the session closes.
- With upgrading off, an ephemeral create of a local session is refused
  with EPHEMERALONLOCALSESSION (-120), the session keeps working, and no
  createSession txn is logged.
"""

import re
import subprocess
import time

import pytest

from conftest import IMPLS, JAVA_LIB, RUST_BIN, require_impl
from rawzk import OP_CLOSE_SESSION, OP_CREATE, OP_EXISTS, OP_GET_DATA, OP_SYNC, OPEN_ACL_UNSAFE, RawZk
from rawzk import p_acl, p_bool, p_buffer, p_int, p_string
from test_zab_learner import ZabPeer, four_letter, report, start_ensemble, stop_all

FOLLOWER, LEADER = 1, 3
EPHEMERAL_ON_LOCAL_SESSION = -120


def make_ensemble(kind, base, upgrading):
    extra = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true" if upgrading else "false"}
    peers = [ZabPeer(kind, sid, base / ("s%d" % sid), extra=extra) for sid in (1, 2, 3)]
    start_ensemble(peers, LEADER)
    return {p.sid: p for p in peers}


@pytest.fixture(scope="module", params=IMPLS)
def upgrading(request, tmp_path_factory):
    kind = request.param
    require_impl(kind)
    peers = {}
    try:
        peers = make_ensemble(kind, tmp_path_factory.mktemp("local-up-%s" % kind), True)
        yield kind, peers
    except BaseException:
        print(report(list(peers.values())))
        raise
    finally:
        stop_all(list(peers.values()))


@pytest.fixture(scope="module", params=IMPLS)
def not_upgrading(request, tmp_path_factory):
    kind = request.param
    require_impl(kind)
    peers = {}
    try:
        peers = make_ensemble(kind, tmp_path_factory.mktemp("local-noup-%s" % kind), False)
        yield kind, peers
    except BaseException:
        print(report(list(peers.values())))
        raise
    finally:
        stop_all(list(peers.values()))


def connect(peer):
    return RawZk("127.0.0.1", peer.client_port, sock_timeout=15.0).connect(timeout_ms=30000)


def create_body(path, data=b"x", flags=0):
    return p_string(path) + p_buffer(data) + p_acl(OPEN_ACL_UNSAFE) + p_int(flags)


def close_session(zk):
    err, _z, _r = zk.request(OP_CLOSE_SESSION)
    zk.close_socket()
    assert err == 0


def mntr(peer, key):
    for line in four_letter(peer.client_port, "mntr").splitlines():
        name, _, value = line.partition("\t")
        if name == "zk_" + key:
            return int(value)
    pytest.fail("%s peer %d: no %s in mntr" % (peer.kind, peer.sid, key))


def logs_of(peer):
    return sorted((peer.data / "version-2").glob("log.*"))


def create_sessions_logged(peer):
    """Session ids of the createSession txns in the peer's logs, read by
    our txnlog-dump and by Java's TxnLogToolkit (which must agree)."""
    ours, javas = [], []
    for log in logs_of(peer):
        out = subprocess.run([str(RUST_BIN), "txnlog-dump", str(log)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        ours += [int(m, 16) for m in re.findall(r"session 0x([0-9a-f]+) cxid 0x[0-9a-f]+ zxid 0x[0-9a-f]+ createSession",
                                                  out.stdout)]
        out = subprocess.run(["java", "-Xmx128m", "-cp", str(JAVA_LIB / "*"),
                              "org.apache.zookeeper.server.persistence.TxnLogToolkit", "--dump", str(log)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        javas += [int(m, 16) for m in re.findall(r"session 0x([0-9a-f]+) cxid 0x[0-9a-f]+ zxid 0x[0-9a-f]+ createSession",
                                                   out.stdout)]
    assert sorted(ours) == sorted(javas), "txnlog-dump and TxnLogToolkit disagree: %r vs %r" % (ours, javas)
    return ours


def synced(peer):
    """Waits until `peer` has applied everything committed so far (a sync
    through a throwaway session)."""
    zk = connect(peer)
    zk.call(OP_SYNC, p_string("/"))
    close_session(zk)


def test_reading_sessions_stay_local(upgrading):
    kind, peers = upgrading
    before = create_sessions_logged(peers[LEADER])
    for sid in (FOLLOWER, LEADER):
        clients = [connect(peers[sid]) for _ in range(4)]
        for zk in clients:
            assert zk.request(OP_EXISTS, p_string("/zookeeper") + p_bool(False))[0] == 0
            assert zk.request(OP_GET_DATA, p_string("/zookeeper") + p_bool(False))[0] == 0
        assert mntr(peers[sid], "local_sessions") >= 4, "%s sid %d" % (kind, sid)
        ids = {zk.session_id for zk in clients}
        assert all(i >> 56 == sid for i in ids), "%s: session ids carry the server id: %r" % (kind, ids)
        for zk in clients:
            close_session(zk)
        deadline = time.monotonic() + 30
        while mntr(peers[sid], "local_sessions") != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mntr(peers[sid], "local_sessions") == 0, "%s sid %d: closed local sessions still counted" % (kind, sid)
    assert create_sessions_logged(peers[LEADER]) == before, "%s: reading sessions were logged" % kind


def test_first_ephemeral_upgrades_the_session(upgrading):
    kind, peers = upgrading
    before = create_sessions_logged(peers[LEADER])
    global_before = mntr(peers[FOLLOWER], "global_sessions")
    zk = connect(peers[FOLLOWER])
    sid = zk.session_id
    assert zk.request(OP_CREATE, create_body("/local-persistent"))[0] == 0
    synced(peers[LEADER])
    assert sid not in create_sessions_logged(peers[LEADER]), "%s: a persistent create upgraded the session" % kind
    assert zk.request(OP_CREATE, create_body("/local-ephemeral", flags=1))[0] == 0
    # A second ephemeral: the session is global already, no second upgrade.
    assert zk.request(OP_CREATE, create_body("/local-ephemeral-2", flags=1))[0] == 0
    synced(peers[LEADER])
    after = create_sessions_logged(peers[LEADER])
    assert after.count(sid) == 1 and len(after) == len(before) + 1, (kind, hex(sid), before, after)
    synced(peers[FOLLOWER])
    assert mntr(peers[FOLLOWER], "global_sessions") == global_before + 1, "%s: upgraded session not global" % kind
    other = connect(peers[2])
    other.call(OP_SYNC, p_string("/"))
    _data, stat = other.get_data("/local-ephemeral")
    assert stat["ephemeralOwner"] == sid
    close_session(zk)
    other.call(OP_SYNC, p_string("/"))
    assert other.exists("/local-ephemeral") is None and other.exists("/local-ephemeral-2") is None
    close_session(other)


def test_without_upgrading_ephemerals_are_refused(not_upgrading):
    kind, peers = not_upgrading
    before = create_sessions_logged(peers[LEADER])
    for sid in (FOLLOWER, LEADER):
        zk = connect(peers[sid])
        err, _z, _r = zk.request(OP_CREATE, create_body("/eph-%d" % sid, flags=1))
        assert err == EPHEMERAL_ON_LOCAL_SESSION, "%s sid %d: ephemeral on a local session: %d" % (kind, sid, err)
        # The session lives on: persistent writes and reads work.
        assert zk.request(OP_CREATE, create_body("/persistent-%d" % sid))[0] == 0
        assert zk.request(OP_GET_DATA, p_string("/persistent-%d" % sid) + p_bool(False))[0] == 0
        assert zk.exists("/eph-%d" % sid) is None
        close_session(zk)
    synced(peers[LEADER])
    assert create_sessions_logged(peers[LEADER]) == before, "%s: a refused upgrade was logged" % kind


MIXED = [
    pytest.param(["rust", "java", "java"], id="our-follower-java-leader"),
    pytest.param(["java", "rust", "rust"], id="java-follower-our-leader"),
]


@pytest.mark.parametrize("kinds", MIXED)
def test_local_sessions_in_mixed_ensembles(tmp_path, kinds):
    """Both kinds with local sessions on: a follower's reading session is
    not logged, writes of a local session are accepted by the leader, and
    the first ephemeral upgrades it once."""
    for k in set(kinds):
        require_impl(k)
    extra = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=extra) for sid, kind in enumerate(kinds, 1)]
    try:
        start_ensemble(peers, LEADER)
        leader, follower = peers[2], peers[0]
        before = create_sessions_logged(leader)
        zk = connect(follower)
        sid = zk.session_id
        assert zk.request(OP_GET_DATA, p_string("/zookeeper") + p_bool(False))[0] == 0
        assert zk.request(OP_CREATE, create_body("/mixed-persistent"))[0] == 0
        synced(leader)
        assert sid not in create_sessions_logged(leader)
        assert zk.request(OP_CREATE, create_body("/mixed-ephemeral", flags=1))[0] == 0
        synced(leader)
        after = create_sessions_logged(leader)
        assert after.count(sid) == 1 and len(after) == len(before) + 1, (kinds, hex(sid), before, after)
        other = connect(peers[1])
        other.call(OP_SYNC, p_string("/"))
        assert other.get_data("/mixed-ephemeral")[1]["ephemeralOwner"] == sid
        close_session(zk)
        other.call(OP_SYNC, p_string("/"))
        assert other.exists("/mixed-ephemeral") is None
        close_session(other)
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)


def test_a_silent_local_session_expires_on_its_server(upgrading):
    """A local session whose client goes quiet is expired by the server
    that holds it (a follower here: the leader never knew it), with no
    txn; resuming it afterwards fails."""
    kind, peers = upgrading
    before = create_sessions_logged(peers[LEADER])
    zk = RawZk("127.0.0.1", peers[FOLLOWER].client_port, sock_timeout=15.0).connect(timeout_ms=2000)
    sid, passwd, timeout = zk.session_id, zk.passwd, zk.timeout
    assert timeout <= 4000, timeout
    assert mntr(peers[FOLLOWER], "local_sessions") >= 1
    zk.close_socket()      # no closeSession: the session must expire
    deadline = time.monotonic() + 30
    while mntr(peers[FOLLOWER], "local_sessions") != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mntr(peers[FOLLOWER], "local_sessions") == 0, "%s: the silent local session never expired" % kind
    again = RawZk("127.0.0.1", peers[FOLLOWER].client_port, sock_timeout=15.0)
    again.connect(timeout_ms=2000, session_id=sid, passwd=passwd)
    assert again.session_id == 0 and again.timeout == 0, "%s: an expired local session resumed" % kind
    again.close_socket()
    synced(peers[LEADER])
    assert create_sessions_logged(peers[LEADER]) == before


DUMPS = {}


def dump_shape(text, names):
    """A `dump` with session ids named, dates and addresses abstracted,
    and Java's emptied expiry buckets dropped (their number varies)."""
    for session_id, name in names.items():
        text = text.replace("0x%x" % session_id, name)
    text = re.sub(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}", "<date>", text)
    text = re.sub(r"/127\.0\.0\.1:\d+", "<addr>", text)
    text = re.sub(r"Session Sets \(\d+\)/", "Session Sets (n)/", text)
    lines = [l for l in text.splitlines() if not l.startswith("0 expire at")]
    return lines[:lines.index("Connections dump:")]


def test_dump_shows_local_and_global_sessions(upgrading):
    """`dump` with local sessions on: the leader's local then global
    session sets, a follower's local sets then its global sessions with
    their timeouts, as Java prints them."""
    kind, peers = upgrading
    local_f, local_l, upgraded = connect(peers[FOLLOWER]), connect(peers[LEADER]), connect(peers[FOLLOWER])
    try:
        for zk in (local_f, local_l):
            assert zk.request(OP_EXISTS, p_string("/zookeeper") + p_bool(False))[0] == 0
        assert upgraded.request(OP_CREATE, create_body("/dump-eph", flags=1))[0] == 0
        synced(peers[LEADER])
        synced(peers[FOLLOWER])
        names = {local_f.session_id: "<local-f>", local_l.session_id: "<local-l>", upgraded.session_id: "<global>"}
        seen = {sid: dump_shape(four_letter(peers[sid].client_port, "dump"), names) for sid in (FOLLOWER, LEADER)}
        conns = {sid: cons_shape(four_letter(peers[sid].client_port, "cons"), names) for sid in (FOLLOWER, LEADER)}
    finally:
        for zk in (local_f, local_l, upgraded):
            close_session(zk)
    ephemerals = ["ephemeral nodes dump:", "Sessions with Ephemerals (1):", "<global>:", "\t/dump-eph"]
    assert seen[LEADER] == ["SessionTracker dump:", "Local Session Sets (n)/(1):", "1 expire at <date>:",
                            "\t<local-l>", "Global Session Sets (n)/(1):", "1 expire at <date>:", "\t<global>"
                            ] + ephemerals, (kind, seen[LEADER])
    assert seen[FOLLOWER][:4] == ["SessionTracker dump:", "Local Session Sets (n)/(1):", "1 expire at <date>:",
                                  "\t<local-f>"], (kind, seen[FOLLOWER])
    assert re.fullmatch(r"<global>\t\d+ms", seen[FOLLOWER][5]), (kind, seen[FOLLOWER])
    assert seen[FOLLOWER][4:5] + seen[FOLLOWER][6:] == ["Global Sessions(1):"] + ephemerals, (kind, seen[FOLLOWER])
    assert [c[:2] for c in conns[FOLLOWER]] == [("<global>", "CREA"), ("<local-f>", "EXIS")], (kind, conns)
    assert [c[:2] for c in conns[LEADER]] == [("<local-l>", "EXIS")], (kind, conns)
    DUMPS[kind] = (seen, conns)
    if len(DUMPS) == 2:
        assert DUMPS["rust"] == DUMPS["java"], DUMPS


def cons_shape(text, names):
    """`cons` as (session, last operation, last zxid) of the named
    sessions' lines (a local session's last zxid differs between a
    follower and the leader, in Java as in ours)."""
    out = []
    for line in text.splitlines():
        sid = re.search(r"sid=(0x[0-9a-f]+)", line)
        lop = re.search(r"lop=(\w+)", line)
        if sid and int(sid.group(1), 16) in names:
            lzxid = re.search(r"lzxid=(0x[0-9a-f]+)", line)
            out.append((names[int(sid.group(1), 16)], lop.group(1) if lop else None,
                        lzxid.group(1) if lzxid else None))
    return sorted(out)
