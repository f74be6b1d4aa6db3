#!/usr/bin/env bash
# The fault-injection suite, long form: many rounds on every kind of
# ensemble (all ours, mixed Java 3.8.0 and ours, all Java as the control),
# each round a fresh three-node ensemble under a seeded schedule of faults
# (SIGKILL of the leader, a follower, two nodes or all three; SIGSTOP of
# the leader or a follower longer than syncLimit; a full disk; network
# partitions, refused or silent; power loss of one node or all three) while
# kazoo sessions (and, in mixed ensembles, one on the Java client) create,
# compare-and-set and read; then the checks of tests/interop/fault_history.py
# on what every node holds.
# The short form runs in scripts/test.sh (tests/interop/test_faults.py).
#
# Usage: scripts/faults.sh [--seed N] [--rounds N] [--faults N]
#                          [--ensembles rust,mixed,java] [--fault-kinds K1,K2]
#                          [--out DIR]
#        scripts/faults.sh --check DIR/<ensemble>-roundN/history.jsonl
# Defaults: 10 rounds of 6 faults drawn from every kind (about a minute per
# ensemble per round: ~35 min). Round r uses seed N+r for every ensemble kind,
# so ours, mixed and all-Java meet the same fault plan. A failing round prints
# its seed, its history (kept under /tmp/zk-faults-failures) and the arguments
# that replay its schedule. Needs root: tmpfs and FUSE mounts, network
# namespaces, nftables.
# Environment: ZK_RUST_BIN (default target/release/zk-server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ZK_RUST_BIN="${ZK_RUST_BIN:-$PWD/target/release/zk-server}"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
[ -x "$ZK_RUST_BIN" ] || { echo "no server binary at $ZK_RUST_BIN (cargo build --release)" >&2; exit 1; }
exec python3 tests/interop/faults.py --rounds 10 "$@"
