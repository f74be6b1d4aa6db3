#!/usr/bin/env bash
# zookeeper-rs: Java ZooKeeper's bin/zkSnapshotRecursiveSummaryToolkit.sh, run
# by zk-server: the number of znodes and data bytes below each znode of a
# snapshot, from a starting znode, printed down to a depth (0: all).
#
#   zkSnapshotRecursiveSummaryToolkit.sh <snapshot file> <starting node> <max depth>
#
# zk-server is found as zkServer.sh finds it (zkEnv.sh: ZK_SERVER_BIN).

ZOOBIN="$(readlink -f "${BASH_SOURCE-$0}")"
ZOOBINDIR="$(cd "$(dirname "${ZOOBIN}")" && pwd)"

if [ -e "$ZOOBINDIR/../libexec/zkEnv.sh" ]; then
    . "$ZOOBINDIR"/../libexec/zkEnv.sh
else
    . "$ZOOBINDIR"/zkEnv.sh
fi

zk_ensure_server_bin || exit 1
exec "$ZK_SERVER_BIN" snapshot-recursive-summary "$@"
