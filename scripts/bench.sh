#!/usr/bin/env bash
# Side-by-side benchmark: Java ZooKeeper 3.8.0 (Debian) and our zk-server,
# on the same generated zoo.cfg, measured with target/release/zk-bench.
#
# For every case and every run, each implementation gets a freshly started
# server on a fresh dataDir (real fsync unless --no-fsync); the tool drives
# it and reads its CPU and RSS from /proc/<pid>. Then `zk-bench compare`
# prints the medians side by side with the ratio ours/Java and whether each
# target of issue 6 is met.
#
# Usage: scripts/bench.sh [--runs N] [--quick] [--only case,case] [--impls java,rust]
#                         [--no-fsync] [--out DIR]
#   --runs N      runs per case and implementation (default 3; the median is kept)
#   --quick       short runs (1 run, 3 s, smaller counts): a sanity pass
#   --only LIST   cases to run (default all): create set get exists mixed
#                 get-1x1 set-1x1 watch connect sessions load recover startup
#                 (recover always runs after load, on load's dataDir)
#   --impls LIST  java,rust (default both; java is the baseline of the ratios)
#   --no-fsync    forceSync=no in zoo.cfg
#   --out DIR     where configs, logs and results.jsonl go
#                 (default target/bench/<date-time>)
# Environment: JAVA_FLAGS  extra JVM flags (default none: the JVM's own
#                          defaults, as Debian's zkServer.sh runs it, e.g.
#                          max heap = 1/4 of RAM)
#              SKIP_BUILD=1  use the binaries already in target/release
#              SESSIONS_COUNT, LOAD_COUNT  override the sizes of `sessions`
#                          (10000) and `load` (1000000)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"

RUNS=3 QUICK=0 ONLY="" IMPLS="java,rust" FSYNC=yes OUT=""
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --only) ONLY=$2; shift 2 ;;
        --impls) IMPLS=$2; shift 2 ;;
        --no-fsync) FSYNC=no; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

ALL_CASES="create set get exists mixed get-1x1 set-1x1 watch connect sessions load recover startup"
CASES=${ONLY//,/ }
CASES=${CASES:-$ALL_CASES}
IMPL_LIST=${IMPLS//,/ }

# Timing and sizes: full runs, or --quick.
if [ $QUICK = 1 ]; then
    [ "$RUNS" = 3 ] && RUNS=1
    TIMED="--warmup 1 --duration 3"
    SESSIONS_COUNT=${SESSIONS_COUNT:-2000} LOAD_COUNT=${LOAD_COUNT:-100000}
else
    TIMED="--warmup 3 --duration 10"
    SESSIONS_COUNT=${SESSIONS_COUNT:-10000} LOAD_COUNT=${LOAD_COUNT:-1000000}
fi

# The flags of each case: the shapes of the issue's targets table.
case_flags() {
    case $1 in
        create|set|get|exists) echo "$1 --sessions 16 --inflight 32 --payload 1024 $TIMED" ;;
        mixed) echo "mixed --sessions 16 --inflight 32 --payload 1024 --reads 90 $TIMED" ;;
        get-1x1) echo "get --sessions 1 --inflight 1 --payload 1024 $TIMED" ;;
        set-1x1) echo "set --sessions 1 --inflight 1 --payload 1024 $TIMED" ;;
        watch) echo "watch --watchers 100 --nodes 10 --inflight 8 --payload 16 $TIMED" ;;
        connect) echo "connect --sessions 16 $TIMED" ;;
        sessions) echo "sessions --count $SESSIONS_COUNT --sessions 16" ;;
        load) echo "load --count $LOAD_COUNT --payload 16 --sessions 8 --inflight 4 --batch 100" ;;
        *) echo "bench.sh: unknown case $1" >&2; return 1 ;;
    esac
}

OUT=${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
BENCH=$ROOT/target/release/zk-bench
RUST_SERVER=$ROOT/target/release/zk-server
JAVA_CP=/usr/share/java/zookeeper.jar
[ -f /usr/share/java/slf4j-simple.jar ] && JAVA_CP=$JAVA_CP:/usr/share/java/slf4j-simple.jar

if [ -z "${SKIP_BUILD:-}" ]; then
    echo "==> cargo build --release --bin zk-server --bin zk-bench"
    cargo build --release --bin zk-server --bin zk-bench
fi
for impl in $IMPL_LIST; do
    case $impl in
        java) [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null \
                  || { echo "bench.sh: Java ZooKeeper is not installed" >&2; exit 1; } ;;
        rust) [ -x "$RUST_SERVER" ] || { echo "bench.sh: $RUST_SERVER missing" >&2; exit 1; } ;;
        *) echo "bench.sh: unknown implementation $impl" >&2; exit 2 ;;
    esac
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A four-letter word through bash's /dev/tcp (no nc needed).
four() {
    timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"' && printf %s '"$2"' >&3 && cat <&3' 2>/dev/null || true
}

# server_cmd IMPL CFG: the command line that starts IMPL on CFG.
server_cmd() {
    if [ "$1" = java ]; then
        echo "java ${JAVA_FLAGS:-} -Djava.net.preferIPv4Stack=true -cp $JAVA_CP org.apache.zookeeper.server.quorum.QuorumPeerMain $2"
    else
        echo "env RUST_LOG=info $RUST_SERVER $2"
    fi
}

# new_dir IMPL NAME: a fresh directory with zoo.cfg and an empty data/;
# sets DIR, PORT, CFG.
new_dir() {
    DIR=$OUT/$2-$1
    rm -rf "$DIR"
    mkdir -p "$DIR/data"
    PORT=$(free_port)
    CFG=$DIR/zoo.cfg
    cat >"$CFG" <<EOF
tickTime=2000
dataDir=$DIR/data
clientPort=$PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=$FSYNC
EOF
}

# start_server IMPL: starts it on $CFG, waits until srvr shows a Mode line;
# sets SERVER_PID.
start_server() {
    local log=$DIR/server.log
    echo "==== $(server_cmd "$1" "$CFG")" >>"$log"
    # exec: $! is the server itself, not a shell.
    bash -c "exec $(server_cmd "$1" "$CFG")" >>"$log" 2>&1 </dev/null &
    SERVER_PID=$!
    for _ in $(seq 600); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "bench.sh: $1 server exited during start-up; log $log:" >&2
            tail -20 "$log" >&2
            return 1
        fi
        case $(four "$PORT" srvr) in *"Mode: "*) return 0 ;; esac
        sleep 0.1
    done
    echo "bench.sh: $1 server did not come up; log $log" >&2
    return 1
}

stop_server() {
    [ -n "${SERVER_PID:-}" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; return 0; }
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT

# bench IMPL CASE ARGS...: one zk-bench run, its JSON line appended to results.
bench() {
    local impl=$1 case=$2; shift 2
    echo "---- $case [$impl] run $RUN/$RUNS: zk-bench $*"
    if ! "$BENCH" "$@" --server "127.0.0.1:$PORT" --label "$impl" --case "$case" --json "$RESULTS"; then
        echo "bench.sh: $case [$impl] reported errors (see above)" >&2
    fi
}

# One run of a case against one implementation, on a fresh server.
run_case() {
    local impl=$1 case=$2
    case $case in
        recover) return 0 ;;  # runs with load
        startup)
            new_dir "$impl" "$case-$RUN"
            bench "$impl" startup startup --server-cmd "$(server_cmd "$impl" "$CFG")" \
                --server-log "$DIR/server.log"
            ;;
        load)
            new_dir "$impl" "$case-$RUN"
            start_server "$impl"
            # shellcheck disable=SC2046
            bench "$impl" load $(case_flags load) --pid "$SERVER_PID"
            stop_server
            if [[ " $CASES " == *" recover "* ]]; then
                bench "$impl" recover recover --server-cmd "$(server_cmd "$impl" "$CFG")" \
                    --server-log "$DIR/server-recover.log"
            fi
            rm -rf "$DIR/data"
            ;;
        *)
            new_dir "$impl" "$case-$RUN"
            start_server "$impl"
            # shellcheck disable=SC2046
            bench "$impl" "$case" $(case_flags "$case") --pid "$SERVER_PID"
            stop_server
            rm -rf "$DIR/data"
            ;;
    esac
}

# recover without load: load still has to make the dataDir.
if [[ " $CASES " == *" recover "* && " $CASES " != *" load "* ]]; then
    CASES="$CASES load"
fi

{
    echo "# zk-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(free -m | awk '/^Mem/{print $2}') MiB RAM"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg); fsync: $FSYNC; runs: $RUNS; quick: $QUICK"
    echo "# java: $(java -version 2>&1 | head -1); flags: ${JAVA_FLAGS:-(JVM defaults)}"
} | tee "$OUT/machine.txt"

for case in $CASES; do
    for RUN in $(seq "$RUNS"); do
        for impl in $IMPL_LIST; do
            run_case "$impl" "$case"
        done
    done
done

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
baseline=${IMPL_LIST%% *}
ours=${IMPL_LIST##* }
echo
echo "==> medians of $RUNS run(s); ratio = $ours/$baseline; results in $RESULTS"
"$BENCH" compare --baseline "$baseline" --ours "$ours" "$RESULTS" | tee "$OUT/table.md"
