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
#                         [--no-fsync] [--tls] [--out DIR] [--ensemble N]
#   --runs N      runs per case and implementation (default 3; the median is kept)
#   --quick       short runs (1 run, 3 s, smaller counts): a sanity pass
#   --only LIST   cases to run (default all): create set get exists mixed
#                 get-1x1 set-1x1 watch watch-1node connect sessions load
#                 recover startup
#                 (recover always runs after load, on load's dataDir);
#                 reattach (not run by default, also with --ensemble):
#                 ENS_SESSIONS idle sessions drop their connections at
#                 once and re-attach to a healthy server
#   --impls LIST  java,rust (default both; java is the baseline of the ratios)
#   --no-fsync    forceSync=no in zoo.cfg
#   --tls         over TLS: each server also serves secureClientPort (Java
#                 with NettyServerCnxnFactory, as TLS needs), zk-bench
#                 connects there with a client certificate; cases default
#                 to connect (handshakes/s) get create sessions (RSS per
#                 idle TLS session), reported as tls-<case>
#   --out DIR     where configs, logs and results.jsonl go
#                 (default target/bench/<date-time>)
#   --ensemble N  ensemble mode: N nodes (3 or 5) of each implementation
#                 from one generated zoo.cfg (each node adds only its
#                 dataDir and clientPort), sessions spread over every node;
#                 cases (named ensN-<case> in the results):
#                 create set get mixed   16 sessions x 32 in flight, 1 KiB
#                 failover     writers + ENS_SESSIONS idle sessions (10000);
#                              SIGKILL the leader
#                 snap-sync    SNAP_COUNT znodes of 16 B (1000000) on N-1
#                              nodes, then node N starts on an empty dataDir
#                 watches      WATCH_SESSIONS sessions (1000) holding
#                              WATCH_COUNT watches (1000000)
#                 sessions-max sessions on node 1 until refused (at most
#                              MAX_SESSIONS, 60000)
# Environment: JAVA_FLAGS  extra JVM flags (default none: the JVM's own
#                          defaults, as Debian's zkServer.sh runs it, e.g.
#                          max heap = 1/4 of RAM)
#              SKIP_BUILD=1  use the binaries already in target/release
#              ZK_RUST_BIN  our server binary (default target/release/zk-server)
#              SESSIONS_COUNT, LOAD_COUNT  override the sizes of `sessions`
#                          (10000) and `load` (1000000)
#              ENS_SESSIONS, SNAP_COUNT, WATCH_SESSIONS, WATCH_COUNT,
#              MAX_SESSIONS  the sizes of the ensemble cases (see above)
#              DURATION, WARMUP  seconds of the timed cases (10, 3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"

RUNS=3 QUICK=0 ONLY="" IMPLS="java,rust" FSYNC=yes OUT="" ENSEMBLE=0 TLS=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --only) ONLY=$2; shift 2 ;;
        --impls) IMPLS=$2; shift 2 ;;
        --no-fsync) FSYNC=no; shift ;;
        --tls) TLS=1; shift ;;
        --out) OUT=$2; shift 2 ;;
        --ensemble) ENSEMBLE=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

ALL_CASES="create set get exists mixed get-1x1 set-1x1 watch watch-1node connect sessions load recover startup"
if [ "$ENSEMBLE" != 0 ]; then
    [ "$ENSEMBLE" -ge 3 ] 2>/dev/null || { echo "bench.sh: --ensemble needs at least 3 nodes" >&2; exit 2; }
    ALL_CASES="create set get mixed failover snap-sync watches sessions-max"
fi
CASES=${ONLY//,/ }
if [ $TLS = 1 ] && [ "$ENSEMBLE" != 0 ]; then
    echo "bench.sh: --tls runs standalone servers; it does not combine with --ensemble" >&2
    exit 2
fi
if [ $TLS = 1 ]; then
    CASES=${CASES:-connect get create sessions}
    for c in $CASES; do
        case $c in connect|create|set|get|exists|mixed|get-1x1|set-1x1|watch|watch-1node|sessions) ;;
            *) echo "bench.sh: case $c does not run over --tls" >&2; exit 2 ;;
        esac
    done
fi
CASES=${CASES:-$ALL_CASES}
IMPL_LIST=${IMPLS//,/ }

# Timing and sizes: full runs, or --quick.
if [ $QUICK = 1 ]; then
    [ "$RUNS" = 3 ] && RUNS=1
    TIMED="--warmup ${WARMUP:-1} --duration ${DURATION:-3}"
    SESSIONS_COUNT=${SESSIONS_COUNT:-2000} LOAD_COUNT=${LOAD_COUNT:-100000}
    ENS_SESSIONS=${ENS_SESSIONS:-1000} SNAP_COUNT=${SNAP_COUNT:-100000}
    WATCH_SESSIONS=${WATCH_SESSIONS:-100} WATCH_COUNT=${WATCH_COUNT:-10000}
    MAX_SESSIONS=${MAX_SESSIONS:-2000}
else
    TIMED="--warmup ${WARMUP:-3} --duration ${DURATION:-10}"
    SESSIONS_COUNT=${SESSIONS_COUNT:-10000} LOAD_COUNT=${LOAD_COUNT:-1000000}
    ENS_SESSIONS=${ENS_SESSIONS:-10000} SNAP_COUNT=${SNAP_COUNT:-1000000}
    WATCH_SESSIONS=${WATCH_SESSIONS:-1000} WATCH_COUNT=${WATCH_COUNT:-1000000}
    MAX_SESSIONS=${MAX_SESSIONS:-60000}
fi

# The flags of each case: the shapes of the issue's targets table.
case_flags() {
    case $1 in
        create|set|get|exists) echo "$1 --sessions 16 --inflight 32 --payload 1024 $TIMED" ;;
        mixed) echo "mixed --sessions 16 --inflight 32 --payload 1024 --reads 90 $TIMED" ;;
        get-1x1) echo "get --sessions 1 --inflight 1 --payload 1024 $TIMED" ;;
        set-1x1) echo "set --sessions 1 --inflight 1 --payload 1024 $TIMED" ;;
        watch) echo "watch --watchers 100 --nodes 10 --inflight 8 --payload 16 $TIMED" ;;
        # The fan-out alone: 100 watchers on one znode, one set in flight.
        watch-1node) echo "watch --watchers 100 --nodes 1 --inflight 1 --payload 16 $TIMED" ;;
        connect) echo "connect --sessions 16 $TIMED" ;;
        sessions) echo "sessions --count $SESSIONS_COUNT --sessions 16" ;;
        load) echo "load --count $LOAD_COUNT --payload 16 --sessions 8 --inflight 4 --batch 100" ;;
        reattach) echo "reattach --count $ENS_SESSIONS --sessions 2 --payload 16 --warmup ${WARMUP:-3} --timeout 120" ;;
        failover) echo "failover --count $ENS_SESSIONS --sessions $((ENSEMBLE * 2)) --payload 16 --warmup ${WARMUP:-3} --timeout 120" ;;
        snap-sync) echo "snap-sync --sessions 4 --inflight 8 --payload 16 --warmup ${WARMUP:-3} --timeout 600" ;;
        watches) echo "watches --watchers $WATCH_SESSIONS --count $WATCH_COUNT --nodes $(( (WATCH_COUNT + WATCH_SESSIONS - 1) / WATCH_SESSIONS )) --changes 10 --timeout 120" ;;
        sessions-max) echo "sessions-max --count $MAX_SESSIONS --sessions 16" ;;
        *) echo "bench.sh: unknown case $1" >&2; return 1 ;;
    esac
}

OUT=${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
BENCH=$ROOT/target/release/zk-bench
RUST_SERVER=${ZK_RUST_BIN:-$ROOT/target/release/zk-server}
JAVA_CP=/usr/share/java/zookeeper.jar
[ -f /usr/share/java/slf4j-simple.jar ] && JAVA_CP=$JAVA_CP:/usr/share/java/slf4j-simple.jar
# NettyServerCnxnFactory (the TLS client port) needs the codec jar,
# which Debian's manifest of zookeeper.jar leaves out.
[ -f /usr/share/java/netty-codec.jar ] && JAVA_CP=$JAVA_CP:/usr/share/java/netty-codec.jar

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

# --tls: a CA, a server certificate for 127.0.0.1 and a client
# certificate, as JKS stores both servers and zk-bench read.
TLS_PW=benchpass
make_certs() {
    local d=$OUT/certs
    rm -rf "$d"
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=bench CA" -days 2
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
        printf "subjectAltName=DNS:localhost,IP:127.0.0.1\n" > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
        openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=bench client"
        printf "extendedKeyUsage=clientAuth\n" > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext
        for who in server client; do
            openssl pkcs12 -export -in $who.pem -inkey $who.key -certfile ca.pem -out $who.p12 -passout pass:$TLS_PW
            keytool -importkeystore -noprompt -srckeystore $who.p12 -srcstoretype PKCS12 -srcstorepass $TLS_PW \
                -destkeystore $who.jks -deststoretype JKS -deststorepass $TLS_PW
        done
        keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.jks -storetype JKS -storepass $TLS_PW
    ) > "$OUT/certs.log" 2>&1 || { echo "bench.sh: making certificates failed (openssl, keytool); see $OUT/certs.log" >&2; exit 1; }
    TLS_ARGS="--tls-truststore $d/trust.jks --tls-keystore $d/client.jks --tls-password $TLS_PW"
}

# Server ports come from below the kernel's ephemeral range (32768 and up):
# a port picked there with bind(0) can be taken as the source port of any
# outgoing connection before the server binds it. A state file hands out each
# port once per run, from a random start.
PORT_STATE=$(mktemp)
free_port() {
    python3 - "$PORT_STATE" <<'PY'
import random, socket, sys
state = sys.argv[1]
low, high = 15000, 32000
try:
    port = int(open(state).read())
except ValueError:
    port = random.randrange(low, high)
for _ in range(high - low):
    port = port + 1 if port + 1 < high else low
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    open(state, "w").write(str(port))
    print(port)
    break
PY
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
    if [ $TLS = 1 ]; then
        SPORT=$(free_port)
        cat >>"$CFG" <<EOF
secureClientPort=$SPORT
secureClientPortAddress=127.0.0.1
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
ssl.keyStore.location=$OUT/certs/server.jks
ssl.keyStore.password=$TLS_PW
ssl.trustStore.location=$OUT/certs/trust.jks
ssl.trustStore.password=$TLS_PW
EOF
    fi
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
trap 'stop_server; stop_nodes; rm -f "$PORT_STATE"' EXIT

# bench IMPL CASE ARGS...: one zk-bench run, its JSON line appended to results.
bench() {
    local impl=$1 case=$2; shift 2
    local target="--server 127.0.0.1:$PORT"
    if [ $TLS = 1 ]; then
        case=tls-$case
        target="--server 127.0.0.1:$SPORT $TLS_ARGS"
    fi
    echo "---- $case [$impl] run $RUN/$RUNS: zk-bench $* $target"
    # shellcheck disable=SC2086
    if ! "$BENCH" "$@" $target --label "$impl" --case "$case" --json "$RESULTS"; then
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

# ---- ensemble mode ------------------------------------------------------------
# new_ensemble IMPL NAME: N node directories (data/myid, zoo.cfg) from one
# generated configuration; sets NODE_DIRS, NODE_PORTS, NODE_CFGS.
new_ensemble() {
    local base=$OUT/$2-$1 i
    rm -rf "$base"
    NODE_DIRS=() NODE_PORTS=() NODE_CFGS=() NODE_PIDS=()
    local shared=$base/zoo.cfg.shared
    mkdir -p "$base"
    cat >"$shared" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=$FSYNC
EOF
    for i in $(seq "$ENSEMBLE"); do
        echo "server.$i=127.0.0.1:$(free_port):$(free_port)" >>"$shared"
    done
    for i in $(seq "$ENSEMBLE"); do
        local dir=$base/node$i
        mkdir -p "$dir/data"
        echo "$i" >"$dir/data/myid"
        NODE_DIRS+=("$dir") NODE_PORTS+=("$(free_port)")
        { cat "$shared"; echo "dataDir=$dir/data"; echo "clientPort=${NODE_PORTS[$((i - 1))]}"; } >"$dir/zoo.cfg"
        NODE_CFGS+=("$dir/zoo.cfg")
    done
}

# start_nodes IMPL FIRST LAST: starts nodes FIRST..LAST (1-based) and waits
# until each serves as leader or follower; fills NODE_PIDS.
start_nodes() {
    local impl=$1 i
    for i in $(seq "$2" "$3"); do
        local dir=${NODE_DIRS[$((i - 1))]}
        echo "==== $(server_cmd "$impl" "$dir/zoo.cfg")" >>"$dir/server.log"
        bash -c "exec $(server_cmd "$impl" "$dir/zoo.cfg")" >>"$dir/server.log" 2>&1 </dev/null &
        NODE_PIDS[$((i - 1))]=$!
    done
    for i in $(seq "$2" "$3"); do
        local ok=0
        for _ in $(seq 1200); do
            kill -0 "${NODE_PIDS[$((i - 1))]}" 2>/dev/null || break
            case $(four "${NODE_PORTS[$((i - 1))]}" srvr) in
                *"Mode: leader"*|*"Mode: follower"*) ok=1; break ;;
            esac
            sleep 0.1
        done
        if [ $ok = 0 ]; then
            echo "bench.sh: $impl node $i did not come up; log ${NODE_DIRS[$((i - 1))]}/server.log:" >&2
            tail -20 "${NODE_DIRS[$((i - 1))]}/server.log" >&2
            return 1
        fi
    done
}

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${NODE_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}

# The client addresses and pids of nodes FIRST..LAST, comma-separated.
node_addrs() { local i out=""; for i in $(seq "$1" "$2"); do out+="${out:+,}127.0.0.1:${NODE_PORTS[$((i - 1))]}"; done; echo "$out"; }
node_pids() { local i out=""; for i in $(seq "$1" "$2"); do out+="${out:+,}${NODE_PIDS[$((i - 1))]}"; done; echo "$out"; }

# ens_bench IMPL CASE ARGS...: one zk-bench run against the ensemble.
ens_bench() {
    local impl=$1 case=$2; shift 2
    echo "---- ens$ENSEMBLE-$case [$impl] run $RUN/$RUNS: zk-bench $*"
    if ! "$BENCH" "$@" --label "$impl" --case "ens$ENSEMBLE-$case" --json "$RESULTS"; then
        echo "bench.sh: ens$ENSEMBLE-$case [$impl] reported errors (see above)" >&2
        ENS_FAILED=1
    fi
}

# One run of an ensemble case against one implementation, on fresh nodes.
run_ensemble_case() {
    local impl=$1 case=$2 n=$ENSEMBLE
    new_ensemble "$impl" "ens$n-$case-$RUN"
    case $case in
        snap-sync)
            # N-1 nodes hold the tree (the highest sid leads); node N joins
            # on its empty dataDir while writes go on.
            local leader=$((n - 1))
            start_nodes "$impl" 1 "$leader" || { ENS_FAILED=1; stop_nodes; return 0; }
            ens_bench "$impl" snap-sync-load load --count "$SNAP_COUNT" --payload 16 --sessions 8 \
                --inflight 4 --batch 100 --server "$(node_addrs $leader $leader)" \
                --pid "$(node_pids 1 $leader)"
            # shellcheck disable=SC2046
            ens_bench "$impl" "$case" $(case_flags "$case") --server "$(node_addrs $leader $leader)" \
                --pid "$(node_pids $leader $leader)" --follower "$(node_addrs "$n" "$n")" \
                --server-cmd "$(server_cmd "$impl" "${NODE_CFGS[$((n - 1))]}")" \
                --server-log "${NODE_DIRS[$((n - 1))]}/server.log"
            ;;
        sessions-max)
            start_nodes "$impl" 1 "$n" || { ENS_FAILED=1; stop_nodes; return 0; }
            # shellcheck disable=SC2046
            ens_bench "$impl" "$case" $(case_flags "$case") --server "$(node_addrs 1 1)" --pid "$(node_pids 1 1)"
            echo "     node 1's log on its connection limit:"
            grep -iE "connection limit|client connections|too many|file descriptors|open files" \
                "${NODE_DIRS[0]}/server.log" | head -5 | sed 's/^/       /' || true
            ;;
        *)
            start_nodes "$impl" 1 "$n" || { ENS_FAILED=1; stop_nodes; return 0; }
            # shellcheck disable=SC2046
            ens_bench "$impl" "$case" $(case_flags "$case") --server "$(node_addrs 1 "$n")" \
                --pid "$(node_pids 1 "$n")"
            ;;
    esac
    stop_nodes
    [ -n "${KEEP_DATA:-}" ] || rm -rf "$OUT/ens$n-$case-$RUN-$impl"/node*/data
}

# recover without load: load still has to make the dataDir.
if [ "$ENSEMBLE" = 0 ] && [[ " $CASES " == *" recover "* && " $CASES " != *" load "* ]]; then
    CASES="$CASES load"
fi

{
    echo "# zk-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(free -m | awk '/^Mem/{print $2}') MiB RAM"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg); fsync: $FSYNC; runs: $RUNS; quick: $QUICK; tls: $TLS"
    echo "# java: $(java -version 2>&1 | head -1); flags: ${JAVA_FLAGS:-(JVM defaults)}"
} | tee "$OUT/machine.txt"

ENS_FAILED=0
[ $TLS = 1 ] && make_certs

for case in $CASES; do
    for RUN in $(seq "$RUNS"); do
        for impl in $IMPL_LIST; do
            if [ "$ENSEMBLE" != 0 ]; then
                run_ensemble_case "$impl" "$case"
            else
                run_case "$impl" "$case"
            fi
        done
    done
done

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
baseline=${IMPL_LIST%% *}
ours=${IMPL_LIST##* }
echo
echo "==> medians of $RUNS run(s); ratio = $ours/$baseline; results in $RESULTS"
"$BENCH" compare --baseline "$baseline" --ours "$ours" "$RESULTS" | tee "$OUT/table.md"
[ "$ENS_FAILED" = 0 ] || { echo "bench.sh: some ensemble runs reported errors" >&2; exit 1; }
