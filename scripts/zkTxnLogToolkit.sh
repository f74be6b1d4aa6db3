#!/usr/bin/env bash
# zookeeper-rs: Java ZooKeeper's bin/zkTxnLogToolkit.sh, run by zk-server:
# dumps a transaction log, recovers one with bad checksums (-r, writing
# <file>.fixed) or chops one at a zxid (-c -z <zxid>), with Java's options,
# output and exit codes.
#
#   zkTxnLogToolkit.sh [-dhrvyc] <txn_log_file_name> (-z <zxid>)
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
exec "$ZK_SERVER_BIN" txnlog-toolkit "$@"
