#!/usr/bin/env bash
#
# Deletes old snapshots and txn logs of the dataDir (and dataLogDir) named
# in zoo.cfg, keeping the newest <count> snapshots and the logs they need.
# The twin of Java's bin/zkCleanup.sh, with the same arguments:
#
#   scripts/zkCleanup.sh [--config <confdir>] -n <count>      (count >= 3)
#
# The config is $ZOOCFGDIR/$ZOOCFG: ZOOCFGDIR defaults to <repo>/conf (or
# `--config <dir>`), ZOOCFG to zoo.cfg. The work is done by
# `zk-server purge <dataLogDir> [<dataDir>] -n <count>` (Java's
# PurgeTxnLog); the release binary is built first if it is missing
# (ZK_RUST_BIN names another binary).

set -euo pipefail

ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ZOOKEEPER_PREFIX="$(cd "$ZOOBINDIR/.." && pwd)"

if [ $# -gt 1 ] && [ "$1" = "--config" ]; then
    ZOOCFGDIR="$2"
    shift 2
fi
# Installed by the Debian package (zk-server beside this script): the
# config in /etc/zookeeper/conf.
if [ -x "$ZOOBINDIR/zk-server" ]; then
    ZOOCFGDIR="${ZOOCFGDIR:-/etc/zookeeper/conf}"
    ZK_RUST_BIN="${ZK_RUST_BIN:-$ZOOBINDIR/zk-server}"
fi
ZOOCFGDIR="${ZOOCFGDIR:-$ZOOKEEPER_PREFIX/conf}"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"
if [ ! -f "$ZOOCFG" ]; then
    echo "zkCleanup.sh: config file $ZOOCFG not found" >&2
    exit 1
fi

# Last assignment wins, as in Java's properties file (and its script).
cfg_value() {
    grep "^[[:space:]]*$1=" "$ZOOCFG" | tail -n 1 | sed -e 's/^[^=]*=//' -e 's/[[:space:]]*$//' || true
}
ZOODATADIR="$(cfg_value dataDir)"
ZOODATALOGDIR="$(cfg_value dataLogDir)"

BIN="${ZK_RUST_BIN:-$ZOOKEEPER_PREFIX/target/release/zk-server}"
if [ ! -x "$BIN" ]; then
    echo "zkCleanup.sh: building $BIN" >&2
    (cd "$ZOOKEEPER_PREFIX" && cargo build --release --bin zk-server >&2)
fi

if [ -z "$ZOODATALOGDIR" ]; then
    exec "$BIN" purge "$ZOODATADIR" "$@"
else
    exec "$BIN" purge "$ZOODATALOGDIR" "$ZOODATADIR" "$@"
fi
