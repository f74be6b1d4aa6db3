#!/usr/bin/env bash
# zookeeper-rs: the environment of zkServer.sh, as Java ZooKeeper's
# bin/zkEnv.sh sets it up.  Sourced by zkServer.sh (not run); it sees and
# may shift the caller's arguments (`--config <conf-dir>`).
#
# Mirrors: bin/zkEnv.sh of Apache ZooKeeper 3.8/3.9.  Same variables, same
# defaults, with the zk-server binary in the place of java:
#   ZOOCFGDIR     `--config <dir>`, else $ZOOCFGDIR, else <repo>/conf if it
#                 exists, else <repo>/etc/zookeeper
#   ZOOCFG        zoo.cfg, joined with ZOOCFGDIR
#   ZOO_LOG_DIR   <repo>/logs
#   Installed by the Debian package (zk-server in the same directory):
#   ZOOCFGDIR /etc/zookeeper/conf, ZOO_LOG_DIR /var/log/zookeeper, and that
#   zk-server.
#   $ZOOCFGDIR/zookeeper-env.sh and $ZOOCFGDIR/java.env are sourced when
#   present, so an existing Java conf dir keeps working.
# Ours only:
#   ZK_SERVER_BIN the server binary (default <repo>/target/release/zk-server;
#                 built with cargo by zk_ensure_server_bin when missing)
#   RUST_LOG      the log level; when unset it is derived from
#                 -Dzookeeper.console.threshold=<LEVEL> in SERVER_JVMFLAGS or
#                 JVMFLAGS, else from the <root level="..."> of
#                 $ZOOCFGDIR/logback.xml (Java's log config), else zk-server's
#                 default (ZOO_LOG4J_PROP's level, else INFO).
# Variables that only make sense for a JVM (JAVA_HOME, CLASSPATH,
# ZK_SERVER_HEAP, JMX*) are accepted and ignored.

ZOOBINDIR="${ZOOBINDIR:-/usr/bin}"
ZOOKEEPER_PREFIX="${ZOOBINDIR}/.."

# check to see if the conf dir is given as an optional argument
if [ $# -gt 1 ] && [ "--config" = "$1" ]; then
    shift
    ZOOCFGDIR=$1
    shift
fi

# Installed by the Debian package (zk-server beside this script, in
# /usr/share/zookeeper/bin): Debian's places for the config and the logs,
# where Java's package keeps them.
if [ -x "$ZOOBINDIR/zk-server" ]; then
    ZK_SERVER_BIN="${ZK_SERVER_BIN:-$ZOOBINDIR/zk-server}"
    ZOOCFGDIR="${ZOOCFGDIR:-/etc/zookeeper/conf}"
    ZOO_LOG_DIR="${ZOO_LOG_DIR:-/var/log/zookeeper}"
fi

if [ "x$ZOOCFGDIR" = "x" ]; then
    if [ -e "${ZOOKEEPER_PREFIX}/conf" ]; then
        ZOOCFGDIR="$ZOOBINDIR/../conf"
    else
        ZOOCFGDIR="$ZOOBINDIR/../etc/zookeeper"
    fi
fi

if [ -f "${ZOOCFGDIR}/zookeeper-env.sh" ]; then
    . "${ZOOCFGDIR}/zookeeper-env.sh"
fi

if [ "x$ZOOCFG" = "x" ]; then
    ZOOCFG="zoo.cfg"
fi

ZOOCFG="$ZOOCFGDIR/$ZOOCFG"

if [ -f "$ZOOCFGDIR/java.env" ]; then
    . "$ZOOCFGDIR/java.env"
fi

if [ "x${ZOO_LOG_DIR}" = "x" ]; then
    ZOO_LOG_DIR="$ZOOKEEPER_PREFIX/logs"
fi

# Only the default binary is built when missing; one named by the
# operator must exist.
_ZK_BUILD_ROOT=""
if [ -z "$ZK_SERVER_BIN" ]; then
    _ZK_BUILD_ROOT="$(cd "$ZOOKEEPER_PREFIX" && pwd)"
    ZK_SERVER_BIN="$_ZK_BUILD_ROOT/target/release/zk-server"
fi

# Builds the release binary when it is missing (the first run from a fresh
# checkout).  Quiet: cargo's output is shown only when the build fails.
zk_ensure_server_bin() {
    if [ -x "$ZK_SERVER_BIN" ]; then
        return 0
    fi
    local root="$_ZK_BUILD_ROOT" cargo_log
    if [ -z "$root" ] || [ ! -f "$root/Cargo.toml" ]; then
        echo "Error: $ZK_SERVER_BIN is not an executable zk-server binary." >&2
        return 1
    fi
    local cargo=cargo
    if ! type -p cargo > /dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
        cargo="$HOME/.cargo/bin/cargo"
    fi
    if ! type -p "$cargo" > /dev/null; then
        echo "Error: $ZK_SERVER_BIN is missing and cargo could not be found in PATH to build it." >&2
        return 1
    fi
    echo "Building zk-server: cargo build --release --bin zk-server (in $root)" >&2
    cargo_log="$(mktemp)"
    if ! (cd "$root" && "$cargo" build --quiet --release --bin zk-server) > "$cargo_log" 2>&1; then
        cat "$cargo_log" >&2
        rm -f "$cargo_log"
        echo "Error: building zk-server failed." >&2
        return 1
    fi
    rm -f "$cargo_log"
}

# Prints the last value of <key> in the properties file <file> (separator
# `=`, `:` or blanks; surrounding blanks and a CR dropped), as the grep/sed
# lines of Java's zkServer.sh find them, but for every separator Java's
# Properties accepts.
zk_cfg_value() {
    local key_re
    key_re="$(printf '%s' "$1" | sed -e 's/[.[\*^$]/\\&/g')"
    sed -n -e "s/^[[:space:]]*${key_re}[[:space:]]*[=:[:space:]][[:space:]]*//p" "$2" 2> /dev/null \
        | tail -n 1 | sed -e 's/\r$//' -e 's/[[:space:]]*$//'
}

# The log level for zk-server (RUST_LOG), when the operator did not set one.
zk_log_level() {
    local - flag level
    set -f
    for flag in $SERVER_JVMFLAGS $JVMFLAGS; do
        case $flag in
            -Dzookeeper.console.threshold=?*) level=${flag#*=} ;;
        esac
    done
    if [ -z "$level" ] && [ -f "$ZOOCFGDIR/logback.xml" ]; then
        level="$(sed -n -e 's/.*<root[[:space:]][^>]*level="\([A-Za-z]*\)".*/\1/p' "$ZOOCFGDIR/logback.xml" | head -n 1)"
    fi
    level="$(printf '%s' "$level" | tr '[:upper:]' '[:lower:]')"
    case $level in
        all) echo trace ;;
        trace|debug|info|warn|error|off) echo "$level" ;;
    esac
}

if [ -z "$RUST_LOG" ]; then
    _ZK_LEVEL="$(zk_log_level)"
    if [ -n "$_ZK_LEVEL" ]; then
        export RUST_LOG="$_ZK_LEVEL"
    fi
    unset _ZK_LEVEL
fi
