"""Java's zkCli.sh `config` and `reconfig` (-remove, -add, -members, -file
missing, -v with a stale version, no auth) through a follower of a
3-node reconfig ensemble: the transcript from ours must be Java 3.8.0's,
with ports and config versions replaced by tokens in order of appearance.
"""

import os
import re
import signal
import subprocess

import pytest

from conftest import ZKCLI, require_impl
from test_reconfig import SUPER, ReconfigPeer, start_reconfig_ensemble
from test_zab_learner import report, stop_all

MARKER = "ls /zookeeper"


def run_zkcli(peer, commands, timeout=120):
    lines = []
    for c in commands:
        lines += [c, MARKER]
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    proc = subprocess.Popen([str(ZKCLI), "-server", "127.0.0.1:%d" % peer.client_port],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate("\n".join(lines + ["quit"]) + "\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("zkCli did not finish: %s" % out[-3000:], pytrace=False)
    return out


def transcript(out, peers):
    """The lines between the markers, with ports and versions as tokens."""
    ports = {}
    for p in peers:
        for name, port in (("c", p.client_port), ("q", p.quorum_port), ("e", p.election_port)):
            ports[str(port)] = "%s%d" % (name, p.sid)
    versions = {}

    def version(m):
        versions.setdefault(m.group(1), "V%d" % (len(versions) + 1))
        return "version=" + versions[m.group(1)]

    keep = []
    for line in out.splitlines():
        line = re.sub(r"^\[zk: [^\]]*\] ", "", line)
        if line.startswith(("WATCHER::", "WatchedEvent", "[zookeeper]", "[config, quota]")) or not line.strip():
            continue
        if re.match(r"^\d{4}-\d\d-\d\d |^\d\d:\d\d:\d\d|^log4j|^SLF4J|^Connecting to|^Welcome|^JLine", line):
            continue
        line = re.sub(r"\b(\d{2,5})\b", lambda m: ports.get(m.group(1), m.group(1)), line)
        line = re.sub(r"version=([0-9a-f]+)", version, line)
        keep.append(line)
    return keep


def test_zkcli_reconfig_transcript(tmp_path, crosscheck, impl):
    require_impl(impl)
    peers = [ReconfigPeer(impl, sid, tmp_path / ("s%d" % sid), extra=SUPER) for sid in (1, 2, 3)]
    try:
        start_reconfig_ensemble(peers, 3)
        two = peers[1]
        commands = [
            "config",
            "reconfig -remove 2",
            "addauth digest super:test",
            "reconfig -remove 2",
            "reconfig -add %s" % two.server_line(),
            "reconfig -v 1 -remove 2",
            "reconfig -file /nonexistent/zoo.cfg.dynamic",
            "reconfig -members %s" % ",".join(p.server_line() for p in peers),
            "config",
        ]
        lines = transcript(run_zkcli(peers[0], commands), peers)
        assert any("server.1=" in l for l in lines), lines
        crosscheck.check("zkcli-reconfig", lines)
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
