"""Four-letter words on the client port: ruok and srvr (ops-interface.md §3).

srvr's line keys are compared between implementations; the values of Mode,
Node count, Zxid and Outstanding are checked exactly.
"""

import re

import pytest

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
