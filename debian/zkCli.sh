#!/bin/sh
# zkCli.sh for the zookeeper-rs package: ZooKeeper's command line client is
# Java's (org.apache.zookeeper.ZooKeeperMain, from libzookeeper-java), run
# the way Debian's zkCli.sh runs it, so `zkCli.sh -server host:port` keeps
# working after the server package was switched to zookeeper-rs.
#
#   zkCli.sh [-server host:port] [cmd args]
#
# CLIENT_JVMFLAGS and JVMFLAGS are passed to java as with Debian's script.

JAR=/usr/share/java/zookeeper.jar
JAVA=${JAVA:-java}
if [ ! -r "$JAR" ] || ! command -v "$JAVA" > /dev/null 2>&1; then
    echo "zkCli.sh needs Java ZooKeeper's client library and a JRE:" >&2
    echo "  apt install libzookeeper-java default-jre-headless" >&2
    exit 1
fi
ZOO_LOG_DIR=${ZOO_LOG_DIR:-/var/log/zookeeper}
ZOO_LOG_FILE=${ZOO_LOG_FILE:-zookeeper-$USER-cli-$(hostname).log}
# Word splitting of the flags is intended, as in Java's script.
# shellcheck disable=SC2086
exec "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" "-Dzookeeper.log.file=$ZOO_LOG_FILE" \
    -cp "/etc/zookeeper/conf:$JAR" $CLIENT_JVMFLAGS $JVMFLAGS \
    org.apache.zookeeper.ZooKeeperMain "$@"
