"""What operators read about an ensemble: the AdminServer's `leader`,
`voting_view`, `zabstate`, `observers` (after `orst`) and the 4lw `conf`
on a leader, a follower and an observer, with live values, compared with
Java 3.8.0's answers in the same session.

Four peers per implementation: sid 3 leads, 1 and 2 follow, 4 observes.
Answers are normalized before comparing: every port becomes the name of
what it is (e.g. `s2.quorum`), paths and sizes are masked, and the values
that move with time or traffic (`established`, packet counters, the
observer link's local port, zxids) are replaced by their type.
"""

import json
import re

import pytest

from conftest import IMPLS, require_impl
from test_zab_learner import four_letter, start_ensemble, stop_all, report
from test_zab_ops import http_get, ops_peer

COMMANDS = ("leader", "voting_view", "zabstate", "observers")
ANSWERS = {}


def port_names(peers):
    names = {}
    for p in peers:
        names[p.client_port] = "s%d.client" % p.sid
        names[p.quorum_port] = "s%d.quorum" % p.sid
        names[p.election_port] = "s%d.election" % p.sid
        names[p.admin_port] = "s%d.admin" % p.sid
    return names


def normalize(value, names, key=None):
    if isinstance(value, dict):
        return {k: normalize(v, names, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v, names, key) for v in value]
    if key in ("established", "packets_received", "packets_sent", "queued_packets",
               "queued_packets_size", "requests", "last_zxid", "zab_epoch", "zab_counter"):
        return "<%s>" % type(value).__name__
    if key == "remote_socket_address":
        return re.sub(r":\d+$", ":<port>", value)
    if isinstance(value, int) and not isinstance(value, bool) and value in names:
        return names[value]
    if isinstance(value, str):
        return re.sub(r"\b(\d{4,5})\b", lambda m: names.get(int(m.group(1)), m.group(1)), value)
    return value


def normalize_conf(text, names, base):
    text = text.replace(str(base), "<dir>").replace("-java/", "/").replace("-rust/", "/")
    text = re.sub(r"(data(Dir|Log)Size)=\d+", r"\1=<size>", text)
    return normalize(text, names)


@pytest.mark.parametrize("kind", IMPLS)
def test_quorum_commands_answer_with_live_data(tmp_path, kind):
    require_impl(kind)
    peers = [ops_peer(kind, sid, tmp_path, observer=(sid == 4)) for sid in (1, 2, 3, 4)]
    names = port_names(peers)
    answers = {}
    try:
        start_ensemble(peers, 3)
        for p in peers:
            status, _ = http_get(p.admin_port, "/commands/orst")
            assert status == 200
            for c in COMMANDS:
                status, body = http_get(p.admin_port, "/commands/" + c)
                assert status == 200, (kind, p.sid, c, body)
                answers[(p.sid, c)] = normalize(json.loads(body), names)
            answers[(p.sid, "conf")] = normalize_conf(four_letter(p.client_port, "conf"), names, tmp_path)
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
    # Live values, whatever the implementation.
    assert answers[(3, "leader")]["is_leader"] is True
    assert all(answers[(s, "leader")]["leader_id"] == 3 for s in (1, 2, 3, 4))
    assert sorted(answers[(1, "voting_view")]["current_config"]) == ["1", "2", "3"]
    assert answers[(4, "zabstate")]["voting"] is False and answers[(1, "zabstate")]["voting"] is True
    assert answers[(3, "observers")]["synced_observers"] == 1
    assert answers[(3, "observers")]["observers"][0]["sid"] == 4
    assert "serverId=2\n" in answers[(2, "conf")] and "membership: \n" in answers[(2, "conf")]
    ANSWERS[kind] = answers
    if kind != "java" and "java" in ANSWERS:
        for key, java in sorted(ANSWERS["java"].items()):
            assert answers[key] == java, "%s differs from Java's for sid %d %s" % (kind, key[0], key[1])
