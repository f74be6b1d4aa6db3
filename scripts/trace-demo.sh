#!/usr/bin/env bash
# Watch the protocol happen: runs a 3-node ensemble of ours on loopback
# with `protocolTrace=true`, and prints the nodes' trace lines merged by
# time. What it does, in order:
#
#   1. starts the three peers (an election: ELECTION lines, then
#      discovery and sync: FOLLOWERINFO, LEADERINFO, ACKEPOCH, DIFF,
#      NEWLEADER, UPTODATE);
#   2. creates /trace-demo through a follower (REQUEST to the leader,
#      PROPOSAL, ACK, COMMIT; TXN logged and applied on every node);
#   3. kills the leader with SIGKILL (a new election between the two
#      survivors), writes /after-failover while it is down, then restarts
#      it: it rejoins as a follower and is resynced with a DIFF that
#      carries the write it missed.
#
# Usage: scripts/trace-demo.sh [workdir]   (default: a new temp dir)
# Needs target/release/zk-server (cargo build --release) and python3 with
# kazoo (the interop suite's client). The merged trace is written to
# <workdir>/trace.txt, each line prefixed with the node it came from.
# docs/tour/06-protocol-trace.md walks a trace made this way.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${ZK_RUST_BIN:-$ROOT/target/release/zk-server}"
WORK="${1:-$(mktemp -d /tmp/zk-trace-demo.XXXXXX)}"
mkdir -p "$WORK"
[ -x "$BIN" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }

# Three free loopback ports per node (client, quorum, election).
read -r -a PORTS <<<"$(python3 -c '
import socket
socks = [socket.socket() for _ in range(9)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
')"
client_port() { echo "${PORTS[$((($1 - 1) * 3))]}"; }

PIDS=(0 0 0 0)
start() {
    local id=$1
    RUST_LOG=info "$BIN" "$WORK/n$id/zoo.cfg" >>"$WORK/n$id/peer.log" 2>&1 &
    PIDS[$id]=$!
}
cleanup() {
    for id in 1 2 3; do
        if [ "${PIDS[$id]}" != 0 ]; then kill "${PIDS[$id]}" 2>/dev/null || true; fi
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

for id in 1 2 3; do
    mkdir -p "$WORK/n$id/data"
    echo "$id" >"$WORK/n$id/data/myid"
    {
        echo "tickTime=1000"
        echo "initLimit=5"
        echo "syncLimit=2"
        echo "dataDir=$WORK/n$id/data"
        echo "clientPort=$(client_port "$id")"
        echo "clientPortAddress=127.0.0.1"
        echo "admin.enableServer=false"
        echo "4lw.commands.whitelist=srvr"
        echo "protocolTrace=true"
        for peer in 1 2 3; do
            b=$(((peer - 1) * 3))
            echo "server.$peer=127.0.0.1:${PORTS[$((b + 1))]}:${PORTS[$((b + 2))]}"
        done
    } >"$WORK/n$id/zoo.cfg"
done

mode_of() { "$BIN" four-letter-word 127.0.0.1 "$(client_port "$1")" srvr 2>/dev/null | sed -n 's/^Mode: //p'; }

# Waits (up to 60 s) until the nodes given serve as one leader and the
# rest as followers; prints the leader's id.
wait_settled() {
    local deadline=$((SECONDS + 60)) leader followers id m
    while [ $SECONDS -lt $deadline ]; do
        leader="" followers=0
        for id in "$@"; do
            m=$(mode_of "$id")
            [ "$m" = leader ] && leader=$id
            [ "$m" = follower ] && followers=$((followers + 1))
        done
        if [ -n "$leader" ] && [ $((followers + 1)) -eq $# ]; then
            echo "$leader"
            return 0
        fi
        sleep 0.2
    done
    echo "the ensemble did not settle; logs are in $WORK" >&2
    return 1
}

create() {
    python3 - "$1" "$2" <<'EOF'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1], timeout=10.0)
zk.start(timeout=30)
zk.create(sys.argv[2], b"hello")
zk.stop()
zk.close()
EOF
}

echo "== starting three peers in $WORK"
for id in 1 2 3; do start "$id"; done
LEADER=$(wait_settled 1 2 3)
echo "== node $LEADER leads"
FOLLOWER=$(((LEADER % 3) + 1))
echo "== writing /trace-demo through follower $FOLLOWER"
create "$(client_port "$FOLLOWER")" /trace-demo
sleep 1 # let the COMMIT reach the third node before the kill
echo "== SIGKILL of leader $LEADER"
kill -9 "${PIDS[$LEADER]}"
wait "${PIDS[$LEADER]}" 2>/dev/null || true
PIDS[$LEADER]=0
SURVIVORS=()
for id in 1 2 3; do [ "$id" != "$LEADER" ] && SURVIVORS+=("$id"); done
NEW_LEADER=$(wait_settled "${SURVIVORS[@]}")
echo "== node $NEW_LEADER leads now; writing /after-failover"
create "$(client_port "$NEW_LEADER")" /after-failover
echo "== restarting node $LEADER"
start "$LEADER"
wait_settled 1 2 3 >/dev/null
sleep 1
END=$(date -u +%T,%3N) # the shutdown's own lines are left out
cleanup
PIDS=(0 0 0 0)

# Merge: every trace line plus the role changes, by time (a stable sort,
# so each node's lines keep their order), as "time node thread message".
python3 - "$WORK" "$END" <<'EOF'
import re, sys
work, end = sys.argv[1], sys.argv[2]
line_re = re.compile(r"^\S+ (\S+) \[myid:\] - \w+ +\[(.*):(zk_trace|zookeeper::[\w:]+)@\d+\] - (.*)$")
keep = re.compile(r"^(ELECTION|PACKET|TXN|SESSION) |^LOOKING$|^Election done|^(LEADING|FOLLOWING) - LEADER ELECTION TOOK")
rows = []
for node in (1, 2, 3):
    for line in open("%s/n%d/peer.log" % (work, node), errors="replace"):
        m = line_re.match(line.rstrip("\n"))
        if not m or not keep.search(m.group(4)) or m.group(1) > end:
            continue
        thread = re.sub(r"\[myid=\d+\]|-127\.0\.0\.1:\d+|:\d+$", "", m.group(2))
        rows.append((m.group(1), "%s n%d %-15s %s" % (m.group(1), node, thread, m.group(4))))
rows.sort(key=lambda r: r[0])
with open("%s/trace.txt" % work, "w") as out:
    out.writelines(r[1] + "\n" for r in rows)
EOF
echo "== merged trace: $WORK/trace.txt ($(wc -l <"$WORK/trace.txt") lines)"
