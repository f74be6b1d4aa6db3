#!/usr/bin/env bash
# zookeeper-rs: prepares an empty dataDir (and dataLogDir) before a first
# start, as Java ZooKeeper's bin/zkServer-initialize.sh does: creates
# <dir>/version-2 (removing an old one and the myid file only with
# --force), writes myid when --myid is given, and leaves the `initialize`
# marker in the dataDir. A server that finds the marker trusts its empty
# database (it may take part in an election with zxid 0) and deletes it.
#
#   zkServer-initialize.sh [--configfile=<zoo.cfg>] [--myid=<id>] [--force]
#
# Same options, messages and exit codes as Java's script; the config is
# found as zkServer.sh finds it (zkEnv.sh: $ZOOCFGDIR/$ZOOCFG), and its
# keys are read with any separator Java's properties accept.

ZOOBIN="$(readlink -f "${BASH_SOURCE-$0}")"
ZOOBINDIR="$(cd "$(dirname "${ZOOBIN}")" && pwd)"

if [ -e "$ZOOBINDIR/../libexec/zkEnv.sh" ]; then
    . "$ZOOBINDIR"/../libexec/zkEnv.sh
else
    . "$ZOOBINDIR"/zkEnv.sh
fi

usage() {
    printf "usage: %s <parameters>
  Optional parameters:
     -h                                                    Display this message
     --help                                                Display this message
     --configfile=%-40s ZooKeeper config file
     --myid=#                                              Set the myid to be used, if any (1-255)
     --force                                               Force creation of the data/txnlog dirs
" "$0" "$ZOOCFG"
    exit 1
}

# Empties <dir> of what a previous server left (version-2, myid) and
# creates <dir>/version-2; the directory itself is kept, so its owner and
# mode stay what the operator made them.
fresh_version_dir() {
    rm -rf "$1/myid" "$1/version-2" > /dev/null 2>&1
    mkdir -p "$1/version-2"
}

initialize() {
    if [ ! -e "$ZOOCFG" ]; then
        echo "Unable to find config file at $ZOOCFG"
        exit 1
    fi
    local data_dir log_dir
    data_dir="$(zk_cfg_value dataDir "$ZOOCFG")"
    log_dir="$(zk_cfg_value dataLogDir "$ZOOCFG")"
    if [ -z "$data_dir" ]; then
        echo "Unable to determine dataDir from $ZOOCFG"
        exit 1
    fi

    if [ "$FORCE" = 1 ]; then
        echo "Force enabled, data/txnlog directories will be re-initialized"
    else
        # Real data lives in version-2: an existing parent alone is fine.
        if [ -d "$data_dir/version-2" ]; then
            echo "ZooKeeper data directory already exists at $data_dir (or use --force to force re-initialization)"
            exit 1
        fi
        if [ -n "$log_dir" ] && [ -d "$log_dir/version-2" ]; then
            echo "ZooKeeper txnlog directory already exists at $log_dir (or use --force to force re-initialization)"
            exit 1
        fi
    fi

    fresh_version_dir "$data_dir"
    if [ -n "$log_dir" ]; then
        fresh_version_dir "$log_dir"
    fi

    if [ -n "$MYID" ]; then
        echo "Using myid of $MYID"
        echo "$MYID" > "$data_dir/myid"
    else
        echo "No myid provided, be sure to specify it in $data_dir/myid if using non-standalone"
    fi

    touch "$data_dir/initialize"
}

while [ -n "$1" ]; do
    case "$1" in
        --configfile) ZOOCFG=$2; shift 2 ;;
        --configfile=?*) ZOOCFG=${1#*=}; shift 1 ;;
        --myid) MYID=$2; shift 2 ;;
        --myid=?*) MYID=${1#*=}; shift 1 ;;
        --force) FORCE=1; shift 1 ;;
        -h | --help) usage ;;
        *)
            echo "Unknown option: $1"
            usage
            ;;
    esac
done
initialize
