"""Four-letter words on the client port: ruok and srvr.

srvr's line keys are compared between implementations; the values of Mode,
Node count, Zxid and Outstanding are checked exactly.
"""

import re

import pytest

from conftest import RUST_BIN
from rawzk import RawZk

SRVR_KEYS = ["Zookeeper version", "Latency min/avg/max", "Received", "Sent",
             "Connections", "Outstanding", "Zxid", "Mode", "Node count"]


def parse_srvr(text):
    assert text.endswith("\n"), repr(text)
    pairs = []
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        assert sep, "not a 'key: value' line: %r" % line
        pairs.append((key, value))
    return pairs


def test_ruok(zk):
    assert zk.four_letter("ruok") == "imok"
    # like nc: the client half-closes right after the command
    assert zk.four_letter("ruok", half_close=True) == "imok"


def test_srvr(zk, crosscheck):
    pairs = parse_srvr(zk.four_letter("srvr"))
    keys = [k for k, _ in pairs]
    assert keys == SRVR_KEYS
    v = dict(pairs)
    assert v["Mode"] == "standalone"
    assert v["Node count"] == "5"                       # fresh DB: root counted twice (§10)
    assert re.fullmatch(r"\d+/\d+(\.\d+)?(E-?\d+)?/\d+", v["Latency min/avg/max"])
    assert re.fullmatch(r"0x[0-9a-f]+", v["Zxid"])
    for k in ("Received", "Sent", "Connections", "Outstanding"):
        assert re.fullmatch(r"\d+", v[k]), k
    assert v["Outstanding"] == "0"

    c = RawZk("127.0.0.1", zk.port).connect()
    for i in range(3):
        c.create("/srvr%d" % i)
    last = c.last_zxid
    v2 = dict(parse_srvr(zk.four_letter("srvr", half_close=True)))
    assert v2["Node count"] == "8"
    assert v2["Zxid"] == "0x%x" % last
    assert int(v2["Connections"]) >= 1
    assert int(v2["Received"]) > int(v["Received"])
    for i in range(3):
        c.delete("/srvr%d" % i)
    c.close_session()
    crosscheck.check("srvr", (keys, v["Mode"], v["Node count"], v2["Node count"]))


def test_unknown_word_is_not_a_command(zk, crosscheck):
    """A 4-byte word that is not a command is read as a frame length; 'abcd'
    (0x61626364) exceeds jute.maxbuffer, so the connection is closed."""
    c = RawZk("127.0.0.1", zk.port)
    c.send_raw(b"abcd")
    assert c.is_closed(5)
    crosscheck.check("closed", True)


@pytest.fixture(scope="module")
def zk_ruok_only(impl, server_factory):
    srv = server_factory(impl, "4lw-whitelist", {"4lw.commands.whitelist": "ruok"})
    yield srv
    srv.stop()


def test_whitelist(zk_ruok_only, crosscheck):
    srv = zk_ruok_only
    assert srv.four_letter("ruok") == "imok"
    # srvr is always allowed
    assert dict(parse_srvr(srv.four_letter("srvr")))["Mode"] == "standalone"
    answers = {w: srv.four_letter(w) for w in ("stat", "mntr", "conf")}
    for w, text in answers.items():
        assert text == "%s is not executed because it is not in the whitelist.\n" % w
    crosscheck.check("answers", answers)


# ---- every word on one workload ------------------------------------------
#
# One server per implementation with a fixed workload: client A owns /w4
# (data "hello"), /w4/b and the ephemeral /w4e, and watches /w4 (data and
# children) and /w4/b (exists); client B watches /w4 (data). Session ids
# differ between runs, so they are replaced by the client's name.

ALL_WORDS = ["conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "srst",
             "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"]


@pytest.fixture(scope="module")
def ops(impl, server_factory):
    from kazoo.client import KazooClient
    srv = server_factory(impl, "4lw-ops")
    clients = {}
    for name in ("A", "B"):
        c = KazooClient(hosts=srv.hosts, timeout=10.0)
        c.start(timeout=30)
        clients[name] = c
    a, b = clients["A"], clients["B"]
    a.create("/w4", b"hello")
    a.create("/w4/b", b"x")
    a.create("/w4e", b"", ephemeral=True)
    a.get("/w4", watch=lambda e: None)
    a.get_children("/w4", watch=lambda e: None)
    a.exists("/w4/b", watch=lambda e: None)
    b.get("/w4", watch=lambda e: None)
    names = {"0x%x" % c.client_id[0]: n for n, c in clients.items()}
    yield srv, names
    for c in clients.values():
        c.stop()
        c.close()
    srv.stop()


def sessions_named(text, names):
    for sid, name in names.items():
        text = text.replace(sid, "<%s>" % name)
    return text


def cons_fields(line):
    m = re.fullmatch(r" /127\.0\.0\.1:\d+\[([0-9a-f]+)\]\((.*)\)", line)
    assert m, "not a cons line: %r" % line
    return [kv.split("=", 1)[0] for kv in m.group(2).split(",")]


def test_every_word_is_known_when_whitelisted(ops, crosscheck):
    srv, _ = ops
    answers = {w: srv.four_letter(w) for w in ALL_WORDS}
    for w, text in answers.items():
        assert "not in the whitelist" not in text, w
        assert "not currently serving" not in text, w
    assert answers["ruok"] == "imok"
    assert answers["isro"] == "rw"
    assert answers["crst"] == "Connection stats reset.\n"
    assert answers["srst"] == "Server stats reset.\n"
    crosscheck.check("fixed", {w: answers[w] for w in ("ruok", "isro", "crst", "srst", "hash")})


def test_conf(ops, crosscheck):
    srv, _ = ops
    pairs = [line.split("=", 1) for line in srv.four_letter("conf").splitlines()]
    conf = dict(pairs)
    assert conf["clientPort"] == str(srv.port)
    assert conf["dataDir"] == str(srv.data_dir / "version-2")
    assert conf["dataLogDir"] == str(srv.data_dir / "version-2")
    assert int(conf["dataDirSize"]) > 0 and int(conf["dataLogSize"]) > 0
    crosscheck.check("conf", ([k for k, _ in pairs],
                              {k: v for k, v in pairs if not k.startswith("data") and k != "clientPort"}))


def test_dirs(ops, crosscheck):
    srv, _ = ops
    lines = srv.four_letter("dirs").splitlines()
    keys = [line.split(": ")[0] for line in lines]
    assert all(re.fullmatch(r"\w+: \d+", line) for line in lines), lines
    crosscheck.check("dirs", keys)


def test_cons_and_crst(ops, crosscheck):
    srv, names = ops
    text = srv.four_letter("cons")
    assert text.endswith(")\n\n"), repr(text)
    lines = text.splitlines()[:-1]
    by_session = {}
    for line in lines:
        fields = cons_fields(line)
        sid = re.search(r",sid=(0x[0-9a-f]+)", line)
        by_session[names.get(sid.group(1), "?") if sid else "self"] = fields
    assert set(by_session) == {"A", "B", "self"}, lines
    a_line = next(line for line in lines if "sid=" in line)
    assert ",to=10000," in a_line
    srv.four_letter("crst")
    after = [l for l in srv.four_letter("cons").splitlines() if "sid=" in l]
    assert all(",lop=NA," in l and ",recved=0," in l for l in after), after
    assert all(",lcxid=" not in l for l in after), "crst forgets the last cxid"
    crosscheck.check("cons", (by_session, [cons_fields(l) for l in after]))


def test_watch_words(ops, crosscheck):
    srv, names = ops
    wchs = srv.four_letter("wchs")
    wchc = sessions_named(srv.four_letter("wchc"), names)
    wchp = sessions_named(srv.four_letter("wchp"), names)
    assert wchs == "2 connections watching 2 paths\nTotal watches:3\n"
    # Java lists in hash order; we sort. Same entries either way.
    assert watch_blocks(wchp) == {"/w4": ["\t<A>", "\t<B>"], "/w4/b": ["\t<A>"]}
    assert watch_blocks(wchc) == {"<A>": ["\t/w4", "\t/w4/b"], "<B>": ["\t/w4"]}
    crosscheck.check("watches", (wchs, watch_blocks(wchc), watch_blocks(wchp)))


def watch_blocks(text):
    """wchc/wchp text -> {heading: sorted tab-indented lines}; ends with a blank line."""
    assert text.endswith("\n\n"), repr(text)
    blocks, current = {}, None
    for line in text[:-1].splitlines():
        if line.startswith("\t"):
            blocks[current].append(line)
        else:
            current = line
            blocks[current] = []
    return {k: sorted(v) for k, v in blocks.items()}


def dump_shape(text, names):
    """dump with dates, counts of connections and addresses abstracted."""
    text = sessions_named(text, names)
    text = re.sub(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}", "<date>", text)
    text = re.sub(r"/127\.0\.0\.1:\d+", "<addr>", text)
    # Java keeps empty session buckets ("0 expire at"); their number varies.
    return [l for l in text.splitlines() if not l.startswith("0 expire at")]


def test_dump(ops, crosscheck):
    srv, names = ops
    lines = dump_shape(srv.four_letter("dump"), names)
    assert lines[0] == "SessionTracker dump:"
    i = lines.index("ephemeral nodes dump:")
    assert lines[i + 1:i + 4] == ["Sessions with Ephemerals (1):", "<A>:", "\t/w4e"]
    j = lines.index("Connections dump:")
    assert re.fullmatch(r"Connections Sets \(\d+\)/\(3\):", lines[j + 1]), lines[j + 1]
    conns = sorted(l for l in lines[j:] if l.startswith("\tip: "))
    assert conns == ["\tip: <addr> sessionId: 0x0", "\tip: <addr> sessionId: <A>",
                     "\tip: <addr> sessionId: <B>"]
    sessions = sorted(l for l in lines[2:i] if l.startswith("\t"))
    assert sessions == ["\t<A>", "\t<B>"]
    crosscheck.check("dump", (lines[i:i + 4], conns, sessions))


def test_envi(ops, crosscheck, impl):
    srv, _ = ops
    lines = srv.four_letter("envi").splitlines()
    assert lines[0] == "Environment:"
    keys = [l.split("=", 1)[0] for l in lines[1:]]
    java_keys = ["zookeeper.version", "host.name", "java.version", "java.vendor", "java.home",
                 "java.class.path", "java.library.path", "java.io.tmpdir", "java.compiler",
                 "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
                 "os.memory.free", "os.memory.max", "os.memory.total"]
    # Java's key set and order; ours says in the java.* values what it is.
    assert keys == java_keys
    env = dict(l.split("=", 1) for l in lines[1:])
    for key in ("os.memory.free", "os.memory.max", "os.memory.total"):
        assert re.fullmatch(r"\d+MB", env[key]), (key, env[key])
    mb = {k: int(env[k][:-2]) for k in ("os.memory.free", "os.memory.max", "os.memory.total")}
    assert mb["os.memory.free"] <= mb["os.memory.total"] <= mb["os.memory.max"], mb
    if impl == "rust":
        assert env["java.version"].startswith("none (zookeeper-rs "), env["java.version"]
        assert env["java.vendor"] == "zookeeper-rs"
        assert env["java.class.path"] == str(RUST_BIN.resolve())
        assert env["java.home"] == str(RUST_BIN.resolve().parent)
        assert env["java.compiler"] == "<NA>"
    assert env["user.dir"] == str(srv.workdir)
    crosscheck.check("envi", {k: env[k] for k in ("host.name", "os.name", "os.arch", "os.version",
                                                  "user.name", "user.home")})


def test_trace_mask(ops, crosscheck):
    srv, _ = ops
    first = srv.four_letter("gtmk")
    set_to = srv.four_letter(b"stmk" + (255).to_bytes(8, "big"))
    read_back = srv.four_letter("gtmk")
    restored = srv.four_letter(b"stmk" + (306).to_bytes(8, "big"))
    assert (first, set_to, read_back, restored) == ("306", "255", "255", "306")
    crosscheck.check("masks", (first, set_to, read_back, restored))


def parse_mntr(text):
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition("\t")
        assert sep and key.startswith("zk_"), "bad mntr line %r" % line
        out.append((key, value))
    return out


def test_mntr(ops, crosscheck):
    srv, _ = ops
    pairs = parse_mntr(srv.four_letter("mntr"))
    keys = [k for k, _ in pairs]
    v = dict(pairs)
    assert len(keys) == len(set(keys))
    assert keys[:2] == ["zk_version", "zk_server_state"]
    assert v["zk_server_state"] == "standalone"
    for k, val in pairs[2:]:
        assert re.fullmatch(r"-?\d+(\.\d+(E-?\d+)?)?", val), (k, val)
    assert int(v["zk_open_file_descriptor_count"]) > 0
    assert int(v["zk_max_file_descriptor_count"]) > 0
    must_match = ["zk_server_state", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
                  "zk_approximate_data_size", "zk_global_sessions", "zk_outstanding_requests",
                  "zk_local_sessions", "zk_num_alive_connections"]
    # Keys in Java's order (its hash-map order); per-namespace summaries
    # exist for the namespaces the workload touched.
    crosscheck.check("mntr", (keys, {k: v[k] for k in must_match}))


def test_srvr_and_stat_on_workload(ops, crosscheck):
    srv, _ = ops
    srvr = dict(parse_srvr(srv.four_letter("srvr")))
    stat = srv.four_letter("stat").splitlines()
    assert stat[1] == "Clients:"
    blank = stat.index("")
    clients = stat[2:blank]
    assert len(clients) == 3 and all(cons_fields(c) == ["queued", "recved", "sent"] for c in clients)
    crosscheck.check("srvr", {k: srvr[k] for k in ("Mode", "Node count", "Zxid", "Connections", "Outstanding")})
