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
cleanup
PIDS=(0 0 0 0)

# Merge: every trace line plus the role changes, by time, node first.
for id in 1 2 3; do
    grep -E 'zk_trace@|LOOKING|LEADING - |FOLLOWING - |Election done' "$WORK/n$id/peer.log" |
        sed -E "s/^([0-9-]+ [0-9:,]+) \[myid:\] - ([A-Z]+) +\[([^:]+):([^@]+)@[0-9]+\] - /\1 n$id \2 [\3:\4] /"
done | sort -s -k1,2 >"$WORK/trace.txt"
echo "== merged trace: $WORK/trace.txt ($(wc -l <"$WORK/trace.txt") lines)"
