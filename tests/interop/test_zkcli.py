"""A scripted Debian zkCli.sh session, compared between Java and our server.

The oracle is Java's live output: the same script runs once against a fresh
Java 3.8.0 server (cached for the session) and once against a fresh server of
each implementation under test; the normalized transcripts must be equal.

How the transcript is made deterministic:
- One zkCli JVM reads the whole script from stdin (non-tty mode).
- A `printwatches` command (no argument; prints "printwatches is on|off")
  follows every command, so the output splits into one section per command.
- Watch notifications are printed by the client's event thread at arbitrary
  points: they are cut out of the sections ("\\nWATCHER::" and
  "\\nWatchedEvent ..." are each one atomic write) and compared as an ordered
  list of their own.
- `whoami` lists the connection's auth ids in the server's set order: sorted.
- Times become <TIME> (except the epoch, shown by the special nodes), zxids
  become Z1, Z2... in order of first appearance (so equal zxids stay equal),
  session ids S1, S2..., the port PORT.  Lists whose order is the server's
  hash order (getEphemerals, ls -R) are sorted.
"""

import difflib
import os
import re
import signal
import subprocess

import pytest

from conftest import ZKCLI, EnsembleServer, java_available, need

SUPER_DIGEST = "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="  # super:superpw
USER2_DIGEST = "user2:bpD4uPzrrsGNcJsBFLRErJIlBog="  # user2:pw2
CLI_CFG = {"DigestAuthenticationProvider.superDigest": SUPER_DIGEST}

# One command per line; {port} is the server's client port.
SCRIPT = """
version
whoami
stat /
stat /zookeeper
ls /zookeeper
get -s /zookeeper/config
getAcl /zookeeper/config
create /zkcli
create /zkcli/p data1
create -s /zkcli/p/seq- s
create -s /zkcli/p/seq- s
create -e /zkcli/eph e
create -e -s /zkcli/ephs- e
create -c /zkcli/container
create /zkcli/container/child x
create -t 100000 /zkcli/ttl t
create -s -t 100000 /zkcli/ttls- t
create -e -c /zkcli/bad
create -t 100 -e /zkcli/bad
create /zkcli/noval
create /zkcli/acl1 d world:anyone:cdrwa
create /zkcli/iponly d ip:10.0.0.0/8:cdrwa
create /zkcli/badacl d digest:nohash:cdrwa
create /zkcli/badacl2 d auth::cdrwa
get /zkcli/p
get -s /zkcli/p
get -w /zkcli/p
set /zkcli/p data2
set -s /zkcli/p data3
set -v 2 /zkcli/p data4
set -v 99 /zkcli/p bad
set /zkcli/missing x
stat /zkcli/p
stat -w /zkcli/p
stat /zkcli/missing
stat -w /zkcli/later
create /zkcli/later L
stat /zkcli/eph
stat /zkcli/container
stat /zkcli/ttl
get /zkcli/noval
get -w /zkcli/missing
get /zkcli/iponly
ls /zkcli
ls -s /zkcli
ls -R /zkcli
ls -w /zkcli
create /zkcli/new
ls /zkcli/missing
ls -R /zkcli/missing
stat /
getEphemerals /zkcli
getEphemerals /zkcli/nomatch
getEphemerals
getAllChildrenNumber /zkcli
getAllChildrenNumber /
getAllChildrenNumber /zkcli/missing
getAcl /zkcli/p
getAcl -s /zkcli/p
getAcl /zkcli/missing
addauth digest user1:pw1
whoami
create /zkcli/secret s auth::cdrwa
getAcl /zkcli/secret
get -s /zkcli/secret
setAcl /zkcli/acl1 digest:{user2}:r
getAcl /zkcli/acl1
get /zkcli/acl1
set /zkcli/acl1 nope
setAcl -v 5 /zkcli/p world:anyone:cdrwa
setAcl -s -v 0 /zkcli/p world:anyone:cdrw
setAcl -R /zkcli/container world:anyone:cdrwa
getAcl -s /zkcli/container/child
setAcl /zkcli/missing world:anyone:cdrwa
addauth digest user2:pw2
whoami
get /zkcli/acl1
create /zkcli/q
create /zkcli/q/c1 abc
setquota -n 5 /zkcli/q
setquota -b 1000 /zkcli/q
setquota -N 10 /zkcli/q
setquota -B 2000 /zkcli/q
listquota /zkcli/q
create /zkcli/q/c2 defgh
set /zkcli/q/c1 abcdefghij
listquota /zkcli/q
setquota -n 3 /zkcli/q/c1
delquota -n /zkcli/q
listquota /zkcli/q
delquota -b /zkcli/q
delquota /zkcli/q
listquota /zkcli/q
listquota /zkcli/noquota
get -s /zookeeper/quota
addWatch /zkcli/pw
addWatch -m PERSISTENT /zkcli/pw2
addWatch -m PERSISTENT_RECURSIVE /zkcli/rw
create /zkcli/pw x
create /zkcli/pw2 x
create /zkcli/pw2/c x
set /zkcli/pw2/c y
set /zkcli/pw2 y
create /zkcli/rw
create /zkcli/rw/a
create /zkcli/rw/a/b
set /zkcli/rw/a y
delete /zkcli/rw/a/b
removewatches /zkcli/pw
removewatches /zkcli/pw2 -a
removewatches /zkcli/rw -d
removewatches /zkcli/nowatch
get -w /zkcli/new
removewatches /zkcli/new -d
ls -w /zkcli/pw
removewatches /zkcli/pw -c -l
set /zkcli/pw z
delete /zkcli/pw2/c
sync /zkcli
sync /zkcli/missing
delete -v 5 /zkcli/noval
delete -v 0 /zkcli/noval
delete /zkcli/p
delete /zkcli/missing
delete /
delete /zookeeper
delete /zookeeper/quota
deleteall /zkcli/p
deleteall /zkcli/rw -b 1
deleteall /zkcli/missing
create /zkcli
create zkcli/x
create /zkcli/x/
create /zkcli//x
create /zkcli/q/
get /zkcli/missing
create /zkcli/missing/child
create /zkcli/eph/child
config
config -s
reconfig -remove 1
reconfig -add server.5=127.0.0.1:1234:1235;1236
ls -s /zkcli
close
connect 127.0.0.1:{port}
whoami
get /zkcli/secret
getAcl /zkcli/secret
set /zkcli/secret x
getEphemerals /zkcli
ls /zkcli
ls -R /zkcli
addauth digest super:superpw
whoami
get /zkcli/secret
get /zkcli/acl1
set /zkcli/acl1 bySuper
setAcl /zkcli/secret world:anyone:r
getAcl -s /zkcli/secret
delete /zkcli/iponly
stat /zkcli
getAllChildrenNumber /
printwatches off
get -w /zkcli/new
set /zkcli/new z
sync /zkcli
get /zkcli/new
stat /zkcli/new
printwatches on
history
redo 3
printwatches off
quit
"""

MARKER = "printwatches"
MARKER_OUT = re.compile(r"^printwatches is (on|off)$")
EVENT_LINE = re.compile(r"^WatchedEvent state:")
EPOCH = "Thu Jan 01 00:00:00 UTC 1970"


def script_commands(port):
    cmds = [c for c in SCRIPT.strip().splitlines() if c.strip()]
    return [c.format(port=port, user2=USER2_DIGEST) for c in cmds]


def run_zkcli(port, timeout=120):
    """Run the whole script in one zkCli JVM; return (commands, raw output)."""
    cmds = script_commands(port)
    lines = [MARKER]  # the output before it is the connection banner
    for c in cmds:
        lines.append(c)
        if c != "quit":
            lines.append(MARKER)
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    # zkCli.sh runs java as a child: use a process group to kill both on timeout.
    proc = subprocess.Popen([str(ZKCLI), "-server", "127.0.0.1:%d" % port],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate("\n".join(lines) + "\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("zkCli did not finish within %ds; output so far:\n%s"
                    % (timeout, (out or "")[-3000:]), pytrace=False)
    return cmds, out


class Canon:
    """Maps values to stable tokens in order of first appearance."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.seen = {}

    def __call__(self, value):
        if value not in self.seen:
            self.seen[value] = "%s%d" % (self.prefix, len(self.seen) + 1)
        return self.seen[value]


def normalize(cmds, raw, port, other_ports=None):
    """Return {'sections': [(cmd, [lines])], 'events': [...]}.
    `other_ports` ({port: name}) are the ensemble's other ports, shown by
    /zookeeper/config."""
    lines = [l for l in raw.split("\n") if not l.startswith("SLF4J:")]
    # Cut out the event thread's output, each with its preceding blank line.
    kept, events = [], []
    for line in lines:
        if line == "WATCHER::" or EVENT_LINE.match(line):
            if kept and kept[-1] == "":
                kept.pop()
            if EVENT_LINE.match(line):
                events.append(line)
            continue
        kept.append(line)
    while kept and kept[-1] == "":
        kept.pop()
    # Split into sections at the marker output.
    chunks, cur = [], []
    for line in kept:
        if MARKER_OUT.match(line):
            chunks.append(cur)
            cur = []
        else:
            cur.append(line)
    chunks.append(cur)
    names = ["<banner>"] + cmds
    zx, sess = Canon("Z"), Canon("S")
    port_re = re.compile(r"127\.0\.0\.1:%d\b" % port)

    def norm_line(line):
        line = port_re.sub("127.0.0.1:PORT", line)
        for number, name in (other_ports or {}).items():
            line = re.sub(r"(?<=[:=])%d\b" % number, name, line)
        m = re.match(r"^(ctime|mtime) = (.*)$", line)
        if m and m.group(2) != EPOCH:
            return "%s = <TIME>" % m.group(1)
        m = re.match(r"^(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)$", line)
        if m and m.group(2) != "0x0":
            return "%s = %s" % (m.group(1), zx(int(m.group(2), 16)))
        m = re.match(r"^ephemeralOwner = (0x[0-9a-f]+)$", line)
        if m and m.group(1) != "0x0":
            return "ephemeralOwner = %s" % sess(int(m.group(1), 16))
        return line

    sections = []
    for i, chunk in enumerate(chunks):
        name = names[i] if i < len(names) else "<extra %d>" % i
        out = [norm_line(l) for l in chunk]
        if name.startswith("getEphemerals") or name.startswith("ls"):
            out = [sort_list_line(l) for l in out]
        if name.startswith("ls") and " -R" in name:
            out = sorted(out)
        if name.startswith("redo"):
            out = out[:1] + sorted(out[1:])
        sections.append((port_re.sub("127.0.0.1:PORT", name), out))
    return {"sections": sections, "events": events}


def sort_list_line(line):
    m = re.match(r"^\[(.*)\]$", line)
    if not m or not m.group(1):
        return line
    return "[" + ", ".join(sorted(m.group(1).split(", "))) + "]"


def render(t):
    out = []
    for name, lines in t["sections"]:
        out.append("$ " + name)
        out.extend(lines)
    out.append("---- events ----")
    out.extend(t["events"])
    return out


def transcript_for(server):
    cmds, raw = run_zkcli(server.port)
    others = {}
    for p in getattr(server, "peers", []):
        others.update({p.quorum_port: "Q%d" % p.sid, p.election_port: "E%d" % p.sid})
        if p.client_port != server.port:
            others[p.client_port] = "C%d" % p.sid
    return normalize(cmds, raw, server.port, others), raw


def start_server(impl, topology, server_factory, tmp_path_factory, name):
    """A standalone server, or a 3-node ensemble presented through its
    follower (conftest.EnsembleServer)."""
    if topology == "ensemble":
        return EnsembleServer(impl, tmp_path_factory.mktemp("%s-%s-ensemble" % (name, impl)), CLI_CFG).start()
    return server_factory(impl, name, CLI_CFG)


@pytest.fixture(scope="session")
def java_transcripts(server_factory, tmp_path_factory):
    """Java's transcript per topology: the oracle (a fresh Java server or
    ensemble, run once each)."""
    cache = {}

    def get(topology):
        if topology not in cache:
            need(java_available(), "Java ZooKeeper is needed as the oracle")
            need(ZKCLI.exists(), "zkCli.sh not installed: %s" % ZKCLI)
            srv = start_server("java", topology, server_factory, tmp_path_factory, "zkcli-oracle")
            try:
                t, raw = transcript_for(srv)
            finally:
                srv.stop()
            check_sane(t, raw)
            cache[topology] = t
        return cache[topology]

    return get


def section(t, cmd, nth=0):
    """Output of the nth (0-based) run of `cmd` in the script."""
    found = [lines for name, lines in t["sections"] if name == cmd]
    assert len(found) > nth, "no section %d for %r" % (nth, cmd)
    return found[nth]


def check_sane(t, raw):
    """Facts about Java's transcript, so the comparison cannot pass vacuously."""
    text = "\n".join(render(t))
    assert len(t["sections"]) == len(script_commands(1)) + 1, raw[-3000:]
    for p in ("/zkcli", "/zkcli/p", "/zkcli/p/seq-0000000000", "/zkcli/p/seq-0000000001",
              "/zkcli/eph", "/zkcli/container", "/zkcli/ttl", "/zkcli/secret"):
        assert ("Created " + p) in text, p
    assert section(t, "get /zkcli/p") == ["data1"]
    assert "dataVersion = 3" in section(t, "stat /zkcli/p")
    assert section(t, "set -v 99 /zkcli/p bad") == ["version No is not valid : /zkcli/p"]
    assert section(t, "create /zkcli", 1) == ["Node already exists: /zkcli"]
    assert section(t, "delete /zkcli/p") == ["Node not empty: /zkcli/p"]
    assert section(t, "get /zkcli/secret") == ["Insufficient permission : /zkcli/secret"]
    assert section(t, "sync /zkcli") == ["Sync is OK"]
    assert "ephemeralOwner = S1" in section(t, "stat /zkcli/eph")
    assert "WatchedEvent state:SyncConnected type:NodeDataChanged path:/zkcli/p" in t["events"]
    assert "WatchedEvent state:SyncConnected type:NodeCreated path:/zkcli/rw/a" in t["events"]
    assert "WatchedEvent state:SyncConnected type:NodeCreated path:/zkcli/later" in t["events"]
    assert "WatchedEvent state:Closed type:None path:null" in t["events"]
    assert any(l.startswith("Output quota for /zkcli/q") for l in section(t, "listquota /zkcli/q"))
    assert section(t, "get /zkcli/acl1")[0] == "Insufficient permission : /zkcli/acl1"
    assert section(t, "get /zkcli/acl1", 1) == ["d"]
    assert section(t, "get /zkcli/secret", 1) == ["s"]


@pytest.mark.parametrize("topology", ["standalone", "ensemble"])
def test_zkcli_transcript(impl, topology, server_factory, tmp_path_factory, java_transcripts):
    """Our transcript equals Java's, on a standalone server and through a
    follower of a 3-node ensemble (for impl=java: a second Java run, which
    checks that the normalization makes the transcript deterministic)."""
    java_transcript = java_transcripts(topology)
    srv = start_server(impl, topology, server_factory, tmp_path_factory, "zkcli")
    try:
        got, raw = transcript_for(srv)
    finally:
        srv.stop()
    want_lines, got_lines = render(java_transcript), render(got)
    if got_lines != want_lines:
        diff = "\n".join(difflib.unified_diff(want_lines, got_lines, "java", impl, lineterm="", n=4))
        pytest.fail("zkCli transcript differs from Java's:\n" + diff
                    + "\n---- raw %s output (tail) ----\n%s" % (impl, raw[-2000:]),
                    pytrace=False)
