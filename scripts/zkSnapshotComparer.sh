#!/usr/bin/env bash
# zookeeper-rs: Java ZooKeeper's bin/zkSnapshotComparer.sh, run by zk-server:
# compares two snapshots depth by depth and prints the znodes whose subtree
# grew or shrank past the thresholds, with Java's options and output.
#
#   zkSnapshotComparer.sh -l <left snapshot> -r <right snapshot> -b <bytes> -n <nodes> [-d] [-i]
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
exec "$ZK_SERVER_BIN" snapshot-comparer "$@"
