#!/usr/bin/env bash
# zookeeper-rs: start, stop and query the server the way Java ZooKeeper's
# bin/zkServer.sh does, so operators' habits and scripts keep working.
#
#   zkServer.sh [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd} [<zoo.cfg>]
#
# Mirrors: bin/zkServer.sh of Apache ZooKeeper 3.8/3.9 — same arguments,
# environment variables (see zkEnv.sh; ZOOPIDFILE, ZOO_LOG_FILE,
# ZOO_DATADIR_AUTOCREATE_DISABLE, ZOO_NOEXEC, SERVER_JVMFLAGS/JVMFLAGS),
# pid file (<dataDir>/zookeeper_server.pid), output file
# ($ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out), messages on stdout
# and exit codes.  Differences, all deliberate:
#   - the process is target/release/zk-server (built when missing), not java;
#     of the JVM flags only the -D settings are passed on (zk-server reads
#     them as Java reads system properties, e.g. -Djute.maxbuffer=...);
#   - no JMX, hence no "ZooKeeper JMX enabled by default" line on stderr;
#   - `status` sends srvr itself (bash /dev/tcp) instead of running
#     FourLetterWordMain in a JVM, and cannot use TLS (secureClientPort);
#   - `stop` waits (up to 15 s) for the server to exit instead of only
#     sleeping 1 s, so `restart` never races the old process for the port;
#   - `restart` keeps `--config`; a ZOOCFG with a directory part and no
#     <zoo.cfg> argument is kept (Java's script empties it);
#   - zoo.cfg keys are read with any separator Java accepts (`=`, `:`,
#     blanks), not only `=`;
#   - the script's location is resolved through symlinks.

# use POSIX interface, symlinks resolved so the repo is found from anywhere
ZOOBIN="$(readlink -f "${BASH_SOURCE-$0}")"
ZOOBIN="$(dirname "${ZOOBIN}")"
ZOOBINDIR="$(cd "${ZOOBIN}"; pwd)"
_ZOO_SCRIPT="$ZOOBINDIR/$(basename "${BASH_SOURCE-$0}")"

if [ -e "$ZOOBIN/../libexec/zkEnv.sh" ]; then
    . "$ZOOBINDIR"/../libexec/zkEnv.sh
else
    . "$ZOOBINDIR"/zkEnv.sh
fi

if [ "x$SERVER_JVMFLAGS" != "x" ]; then
    JVMFLAGS="$SERVER_JVMFLAGS $JVMFLAGS"
fi

# The -D settings of the JVM flags, word-split as the JVM command line
# would split them (no globbing).
ZOO_SERVER_FLAGS=()
set -f
for _flag in $JVMFLAGS; do
    case $_flag in
        -D?*) ZOO_SERVER_FLAGS+=("$_flag") ;;
    esac
done
set +f
unset _flag

if [ "x$2" != "x" ]; then
    ZOOCFG="$ZOOCFGDIR/$2"
    # if we give a more complicated path to the config, don't screw around in $ZOOCFGDIR
    if [ "x$(dirname "$ZOOCFG")" != "x$ZOOCFGDIR" ]; then
        ZOOCFG="$2"
    fi
fi

echo "Using config: $ZOOCFG" >&2

ZOO_DATADIR="$(zk_cfg_value dataDir "$ZOOCFG")"
ZOO_DATALOGDIR="$(zk_cfg_value dataLogDir "$ZOOCFG")"

# iff autocreate is turned off and the datadirs don't exist fail
# immediately as we can't create the PID file, etc..., anyway.
ZOO_DATADIR_AUTOCREATE=()
if [ -n "$ZOO_DATADIR_AUTOCREATE_DISABLE" ]; then
    if [ ! -d "$ZOO_DATADIR/version-2" ]; then
        echo "ZooKeeper data directory is missing at $ZOO_DATADIR fix the path or run initialize"
        exit 1
    fi

    if [ -n "$ZOO_DATALOGDIR" ] && [ ! -d "$ZOO_DATALOGDIR/version-2" ]; then
        echo "ZooKeeper txnlog directory is missing at $ZOO_DATALOGDIR fix the path or run initialize"
        exit 1
    fi
    ZOO_DATADIR_AUTOCREATE=("-Dzookeeper.datadir.autocreate=false")
fi

if [ -z "$ZOOPIDFILE" ]; then
    if [ ! -d "$ZOO_DATADIR" ]; then
        mkdir -p "$ZOO_DATADIR"
    fi
    ZOOPIDFILE="$ZOO_DATADIR/zookeeper_server.pid"
else
    # ensure it exists, otw stop will fail
    mkdir -p "$(dirname "$ZOOPIDFILE")"
fi

if [ ! -w "$ZOO_LOG_DIR" ]; then
    mkdir -p "$ZOO_LOG_DIR"
fi

ZOO_LOG_FILE=${ZOO_LOG_FILE:-zookeeper-$USER-server-$HOSTNAME.log}
_ZOO_DAEMON_OUT="$ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out"

# zk-server's arguments: Java's -D settings, the operator's, the config.
ZOO_SERVER_ARGS=("${ZOO_DATADIR_AUTOCREATE[@]}" "-Dzookeeper.log.dir=${ZOO_LOG_DIR}"
                 "-Dzookeeper.log.file=${ZOO_LOG_FILE}" "${ZOO_SERVER_FLAGS[@]}" "$ZOOCFG")

# How long `stop` waits for the server to finish its clean shutdown
# (zk-server gives up on a shutdown after 15 s).
ZOO_STOP_TIMEOUT=${ZOO_STOP_TIMEOUT:-15}

# Sends a four-letter word to <host> <port> and prints the answer (5 s
# timeout, as FourLetterWordMain's).
zk_four_letter() {
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%s" "$3" >&3 && cat <&3' \
        zk_four_letter "$1" "$2" "$3" 2> /dev/null
}

case $1 in
start)
    zk_ensure_server_bin || exit 1
    echo -n "Starting zookeeper ... "
    if [ -f "$ZOOPIDFILE" ]; then
        if kill -0 $(cat "$ZOOPIDFILE") > /dev/null 2>&1; then
            echo already running as process $(cat "$ZOOPIDFILE").
            exit 1
        fi
    fi
    nohup "$ZK_SERVER_BIN" "${ZOO_SERVER_ARGS[@]}" > "$_ZOO_DAEMON_OUT" 2>&1 < /dev/null &
    if [ $? -eq 0 ]; then
        if /bin/echo -n $! > "$ZOOPIDFILE"; then
            sleep 1
            pid=$(cat "${ZOOPIDFILE}")
            if ps -p "${pid}" > /dev/null 2>&1; then
                echo STARTED
            else
                echo FAILED TO START
                exit 1
            fi
        else
            echo FAILED TO WRITE PID
            exit 1
        fi
    else
        echo SERVER DID NOT START
        exit 1
    fi
    ;;
start-foreground)
    zk_ensure_server_bin || exit 1
    ZOO_CMD=(exec "$ZK_SERVER_BIN")
    if [ "${ZOO_NOEXEC}" != "" ]; then
        ZOO_CMD=("$ZK_SERVER_BIN")
    fi
    "${ZOO_CMD[@]}" "${ZOO_SERVER_ARGS[@]}"
    ;;
print-cmd)
    echo "\"$ZK_SERVER_BIN\" ${ZOO_DATADIR_AUTOCREATE[*]} -Dzookeeper.log.dir=\"${ZOO_LOG_DIR}\" \
-Dzookeeper.log.file=\"${ZOO_LOG_FILE}\" ${ZOO_SERVER_FLAGS[*]} \"$ZOOCFG\" > \"$_ZOO_DAEMON_OUT\" 2>&1 < /dev/null"
    ;;
stop)
    echo -n "Stopping zookeeper ... "
    if [ ! -f "$ZOOPIDFILE" ]; then
        echo "no zookeeper to stop (could not find file $ZOOPIDFILE)"
    else
        pid=$(cat "$ZOOPIDFILE")
        kill $pid
        rm "$ZOOPIDFILE"
        sleep 1
        waited=1
        while [ "$waited" -lt "$ZOO_STOP_TIMEOUT" ] && kill -0 $pid > /dev/null 2>&1; do
            sleep 1
            waited=$((waited + 1))
        done
        echo STOPPED
    fi
    exit 0
    ;;
version)
    zk_ensure_server_bin || exit 1
    # zk-server answers `version` with Java's VersionInfoMain line; a
    # binary without that subcommand gets the same line built here.
    if ! (cd / && timeout 10 "$ZK_SERVER_BIN" version 2> /dev/null) | grep "^Apache ZooKeeper, version "; then
        crate_version="$(sed -n -e 's/^version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$ZOOKEEPER_PREFIX/Cargo.toml" 2> /dev/null | head -n 1)"
        built="$(date -u -r "$ZK_SERVER_BIN" '+%Y-%m-%d %H:%M UTC' 2> /dev/null)"
        echo "Apache ZooKeeper, version 3.9.5-zookeeper-rs-${crate_version:-unknown} ${built:-unknown}"
    fi
    ;;
restart)
    shift
    ZOOCFGDIR="$ZOOCFGDIR" "$_ZOO_SCRIPT" stop ${@}
    sleep 3
    ZOOCFGDIR="$ZOOCFGDIR" "$_ZOO_SCRIPT" start ${@}
    ;;
status)
    isSSL="false"
    clientPortAddress="$(zk_cfg_value clientPortAddress "$ZOOCFG")"
    if ! [ $clientPortAddress ]; then
        clientPortAddress="localhost"
    fi
    clientPort="$(zk_cfg_value clientPort "$ZOOCFG")"
    if ! [[ "$clientPort" =~ ^[0-9]+$ ]]; then
        dataDir="$(zk_cfg_value dataDir "$ZOOCFG")"
        myid=$(cat "$dataDir/myid" 2> /dev/null)
        if ! [[ "$myid" =~ ^[0-9]+$ ]]; then
            echo "myid could not be determined, will not able to locate clientPort in the server configs."
        else
            serverLine="$(zk_cfg_value "server.$myid" "$ZOOCFG")"
            clientPortAndAddress=""
            if [[ "$serverLine" == *";"* ]]; then
                clientPortAndAddress="${serverLine##*;}"
            fi
            if [ ! "$clientPortAndAddress" ]; then
                echo "Client port not found in static config file. Looking in dynamic config file."
                dynamicConfigFile="$(zk_cfg_value dynamicConfigFile "$ZOOCFG")"
                serverLine="$(zk_cfg_value "server.$myid" "$dynamicConfigFile")"
                if [[ "$serverLine" == *";"* ]]; then
                    clientPortAndAddress="${serverLine##*;}"
                fi
            fi
            if [ ! "$clientPortAndAddress" ]; then
                echo "Client port not found in the server configs"
            else
                if [[ "$clientPortAndAddress" =~ ^.*:[0-9]+ ]]; then
                    if [[ "$clientPortAndAddress" =~ \[.*\]:[0-9]+ ]]; then
                        # Extracts address from address:port for example extracts 127::1 from "[127::1]:2181"
                        clientPortAddress=$(echo "$clientPortAndAddress" | sed -e 's|\[||' | sed -e 's|\]:.*||')
                    else
                        clientPortAddress=$(echo "$clientPortAndAddress" | sed -e 's/:.*//')
                    fi
                fi
                clientPort=$(echo "$clientPortAndAddress" | sed -e 's/.*://')
            fi
        fi
    fi
    if [ ! "$clientPort" ]; then
        echo "Client port not found. Looking for secureClientPort in the static config."
        secureClientPort="$(zk_cfg_value secureClientPort "$ZOOCFG")"
        if [ "$secureClientPort" ]; then
            isSSL="true"
            clientPort=$secureClientPort
            clientPortAddress="$(zk_cfg_value secureClientPortAddress "$ZOOCFG")"
            if ! [ $clientPortAddress ]; then
                clientPortAddress="localhost"
            fi
        else
            echo "Unable to find either secure or unsecure client port in any configs. Terminating."
            exit 1
        fi
    fi
    echo "Client port found: $clientPort. Client address: $clientPortAddress. Client SSL: $isSSL."
    if [ "$isSSL" = "false" ]; then
        STAT=$(zk_four_letter "$clientPortAddress" "$clientPort" srvr | grep Mode)
    else
        # Over TLS with the client's ssl properties, as Java's script
        # passes CLIENT_JVMFLAGS and JVMFLAGS to FourLetterWordMain.
        zk_ensure_server_bin > /dev/null 2>&1
        clientFlags=()
        for flag in $CLIENT_JVMFLAGS $JVMFLAGS; do
            case "$flag" in -D*) clientFlags+=("$flag") ;; esac
        done
        STAT=$("$ZK_SERVER_BIN" four-letter-word "${clientFlags[@]}" \
            "$clientPortAddress" "$clientPort" srvr true 2> /dev/null | grep Mode)
    fi
    if [ "x$STAT" = "x" ]; then
        if [ "$isSSL" = "true" ]; then
            echo " "
            echo "Note: We used secureClientPort ($secureClientPort) to establish connection, but we failed. The 'status'"
            echo "  command establishes a client connection to the server to execute diagnostic commands. Please make sure you"
            echo "  provided all the Client SSL connection related parameters in the CLIENT_JVMFLAGS environment variable! E.g.:"
            echo "  CLIENT_JVMFLAGS=\"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"
            echo "  -Dzookeeper.ssl.trustStore.location=/tmp/clienttrust.jks -Dzookeeper.ssl.trustStore.password=password"
            echo "  -Dzookeeper.ssl.keyStore.location=/tmp/client.jks -Dzookeeper.ssl.keyStore.password=password"
            echo "  -Dzookeeper.client.secure=true\" ./zkServer.sh status"
            echo " "
        fi
        echo "Error contacting service. It is probably not running."
        exit 1
    else
        echo $STAT
        exit 0
    fi
    ;;
*)
    echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd}" >&2

esac
