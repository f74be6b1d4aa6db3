#!/usr/bin/env bash
# Run every test of zookeeper-rs:
#   0. cargo fmt --check and cargo clippy -D warnings (the tree stays clean)
#   1. cargo build --release --bins --features gssapi
#   2. cargo test --release --features gssapi  (Rust unit and integration tests)
#      (gssapi: Kerberos through MIT krb5, needs libkrb5-dev and libclang-dev,
#      installed below; a plain `cargo build` leaves it out)
#   3. the interop suite (tests/interop, pytest) against Java ZooKeeper 3.8.0
#      and our server (target/release/zk-server): zkCli.sh, kazoo, the C
#      client, raw bad input, four-letter words, and the short form of the
#      fault-injection suite (tests/interop/test_faults.py; the long form is
#      scripts/faults.sh), and a smoke run of scripts/bench.sh's ensemble
#      mode at tiny sizes (tests/interop/test_bench_ensemble.py, ~80 s).
# Installs what the tests need when it is missing (Debian's zookeeper
# packages, kazoo, pytest).  Safe to run repeatedly.
#
# Usage: scripts/test.sh [extra pytest arguments, e.g. -k zkcli -x]
# Environment: ZK_IMPLS=java,rust (default) | java | rust
#              ZK_RUST_BIN=<path>  (default target/release/zk-server)
#              SKIP_INSTALL=1      (never install anything)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

# ---- prerequisites -----------------------------------------------------------
if [ -z "${SKIP_INSTALL:-}" ]; then
    missing_pkgs=()
    [ -f /usr/share/java/zookeeper.jar ] || missing_pkgs+=(zookeeper)
    [ -x /usr/share/zookeeper/bin/zkCli.sh ] || missing_pkgs+=(zookeeper-bin)
    [ -f /usr/include/zookeeper/zookeeper.h ] || missing_pkgs+=(libzookeeper-mt-dev)
    command -v java >/dev/null || missing_pkgs+=(default-jre-headless)
    command -v gcc >/dev/null || missing_pkgs+=(gcc)
    command -v promtool >/dev/null || missing_pkgs+=(prometheus)   # promtool check metrics
    [ -f /usr/share/java/curator-recipes.jar ] || missing_pkgs+=(libcurator-recipes-java libcurator-framework-java libcurator-client-java)
    [ -f /usr/share/java/slf4j-nop.jar ] || missing_pkgs+=(libslf4j-java)
    command -v javac >/dev/null || missing_pkgs+=(default-jdk-headless)  # Java test clients (tests/interop/java)
    command -v ip >/dev/null || missing_pkgs+=(iproute2)            # fault suite: network namespaces
    command -v nft >/dev/null || missing_pkgs+=(nftables)           # fault suite: silent partitions
    ldconfig -p | grep 'libfuse\.so\.2 ' >/dev/null || missing_pkgs+=(libfuse2)  # fault suite: power-loss filesystem
    command -v openssl >/dev/null || missing_pkgs+=(openssl)        # test_tls certificates
    command -v keytool >/dev/null || missing_pkgs+=(default-jre-headless)  # test_tls JKS stores
    [ -f /usr/share/java/netty-codec.jar ] || missing_pkgs+=(libnetty-java)  # Java's TLS port
    [ -f /usr/share/java/curator-x-discovery.jar ] || missing_pkgs+=(libcurator-discovery-java)
    # The GSSAPI binding builds against MIT Kerberos (headers, bindgen's
    # libclang); the Kerberos tests run a real KDC.
    [ -f /usr/include/gssapi/gssapi.h ] || missing_pkgs+=(libkrb5-dev)
    compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null || missing_pkgs+=(libclang-dev)
    [ -x /usr/sbin/krb5kdc ] || missing_pkgs+=(krb5-kdc)
    [ -x /usr/sbin/kadmin.local ] || missing_pkgs+=(krb5-admin-server)
    if [ ${#missing_pkgs[@]} -gt 0 ]; then
        step "installing Debian packages: ${missing_pkgs[*]}"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
            zookeeper zookeeper-bin libzookeeper-mt-dev "${missing_pkgs[@]}"
    fi
    if ! python3 -c 'from fuse import FUSE, Operations' 2>/dev/null; then
        step "installing fusepy (pip; the fault suite's power-loss filesystem)"
        python3 -m pip install --quiet fusepy \
            || python3 -m pip install --quiet --break-system-packages fusepy \
            || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-fusepy
    fi
    # test_package.py builds the Debian package with cargo-deb.
    if ! cargo deb --version >/dev/null 2>&1; then
        step "installing cargo-deb (cargo install)"
        cargo install --locked cargo-deb
    fi
    if ! python3 -c 'import kazoo, pytest, puresasl, kerberos' 2>/dev/null; then
        step "installing kazoo, pytest, pure-sasl and kerberos (pip)"
        python3 -m pip install --quiet kazoo pytest pure-sasl kerberos \
            || python3 -m pip install --quiet --break-system-packages kazoo pytest pure-sasl kerberos \
            || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-kazoo python3-pytest python3-pure-sasl python3-kerberos
    fi
fi

# ---- the stages; each runs even if an earlier one failed -----------------
declare -a names results
run_stage() {
    local name=$1; shift
    step "$name: $*"
    local start=$SECONDS rc=0
    "$@" || rc=$?
    names+=("$name")
    if [ $rc -eq 0 ]; then results+=("ok      $((SECONDS - start))s"); else results+=("FAILED  (exit $rc) $((SECONDS - start))s"); fi
    return 0
}

run_stage "cargo fmt --check" cargo fmt --check
run_stage "clippy -D warnings" cargo clippy --release --all-targets --features gssapi -- -D warnings
run_stage "build" cargo build --release --bins --features gssapi
run_stage "cargo test" cargo test --release --features gssapi

export PYTHONDONTWRITEBYTECODE=1
export ZK_RUST_BIN="${ZK_RUST_BIN:-$ROOT/target/release/zk-server}"
# The interop suite fails (instead of skipping) on a missing prerequisite,
# such as the Rust binary, when CI=true; here we always want every test.
export CI="${CI:-true}"
run_stage "interop (ZK_IMPLS=${ZK_IMPLS:-java,rust})" \
    python3 -m pytest -q -p no:cacheprovider -rfE tests/interop "$@"

# ---- summary -----------------------------------------------------------------
status=0
printf '\n==> summary\n'
for i in "${!names[@]}"; do
    printf '  %-40s %s\n' "${names[$i]}" "${results[$i]}"
    case ${results[$i]} in FAILED*) status=1 ;; esac
done
if [ $status -eq 0 ]; then echo "ALL PASSED"; else echo "SOME STAGES FAILED"; fi
exit $status
