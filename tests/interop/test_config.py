"""zoo.cfg acceptance against Java 3.8.0.

Every case is one zoo.cfg (plus optional `-D` flags) started with Java's
`QuorumPeerMain` and with our `zk-server`.  The table records what Java
3.8.0 does with it — exits with a code, or serves — and the test checks
that Java still does that (so the table stays true) and that ours does the
same:
  * a config Java refuses, ours refuses with the same exit code, and its
    message names the key (and the value);
  * a config Java accepts, ours accepts and serves (srvr shows
    `Mode: standalone`), with the probes (four-letter words) answering the
    same on both.

Deliberate differences are marked `ours=` in their rows: a standalone
config without clientPort (Java starts and serves nobody; we refuse), and
an empty dataDir/dataLogDir (Java crashes with exit 1; we call it a config
error, exit 2).

All cases run in parallel once per module (a JVM that refuses a config
exits in a fraction of a second), so the whole table takes a few seconds.
"""

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import (IMPLS, JVM_FLAGS, RUST_BIN, REPO, four_letter, free_port,
                      java_classpath, require_impl)

# Java's AdminServer would take port 8080 in every case; it is not what
# these cases are about.
COMMON_FLAGS = ["-Dzookeeper.admin.enableServer=false"]
BASE = "tickTime=2000\ndataDir={dir}/data\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
NOT_WHITELISTED = "ruok is not executed because it is not in the whitelist.\n"


@dataclass(frozen=True)
class Exits:
    """The process exits with `code` without serving."""
    code: int


@dataclass(frozen=True)
class Serves:
    """The process serves on the client port (srvr shows Mode: standalone)."""


@dataclass(frozen=True)
class Idles:
    """The process keeps running but nothing answers on the client port."""


@dataclass
class Case:
    name: str
    cfg: str                     # zoo.cfg text; {dir}, {port} substituted
    java: object                 # Exits / Serves / Idles: what Java 3.8.0 does
    key: str = None              # for refusals: our message must name it...
    value: str = None            # ...and this value
    flags: list = field(default_factory=list)   # -D flags for both
    probes: dict = field(default_factory=dict)  # 4lw -> exact answer, when serving
    ours: object = None          # our behaviour when it deliberately differs
    missing_file: bool = False   # start with a path that does not exist

    @property
    def expected_ours(self):
        return self.ours if self.ours is not None else self.java


EXIT_CONFIG = 2    # ExitCode.INVALID_INVOCATION
EXIT_DATADIR = 3   # ExitCode.UNABLE_TO_ACCESS_DATADIR

REFUSED = [
    Case("tickTime_not_a_number", BASE.replace("tickTime=2000", "tickTime=abc"),
         Exits(EXIT_CONFIG), "tickTime", "abc"),
    Case("tickTime_zero", BASE.replace("tickTime=2000", "tickTime=0"),
         Exits(EXIT_CONFIG), "tickTime", "0"),
    # Java has no sign check: -1 gives derived timeouts -2 > -20.
    Case("tickTime_negative", BASE.replace("tickTime=2000", "tickTime=-1"),
         Exits(EXIT_CONFIG), "minSessionTimeout", "-2"),
    Case("tickTime_overflows_int", BASE.replace("tickTime=2000", "tickTime=2147483648"),
         Exits(EXIT_CONFIG), "tickTime", "2147483648"),
    Case("min_above_max_session_timeout",
         BASE + "minSessionTimeout=50000\nmaxSessionTimeout=40000\n",
         Exits(EXIT_CONFIG), "minSessionTimeout", "50000"),
    Case("max_session_timeout_below_default_min", BASE + "maxSessionTimeout=1000\n",
         Exits(EXIT_CONFIG), "minSessionTimeout", "4000"),
    Case("minSessionTimeout_hex", BASE + "minSessionTimeout=0x10\n",
         Exits(EXIT_CONFIG), "minSessionTimeout", "0x10"),
    Case("clientPort_not_a_number", BASE.replace("clientPort={port}", "clientPort=21x"),
         Exits(EXIT_CONFIG), "clientPort", "21x"),
    Case("clientPort_too_large", BASE.replace("clientPort={port}", "clientPort=70000"),
         Exits(EXIT_CONFIG), "clientPort", "70000"),
    Case("clientPort_negative", BASE.replace("clientPort={port}", "clientPort=-5"),
         Exits(EXIT_CONFIG), "clientPort", "-5"),
    Case("clientPortAddress_unknown_host",
         BASE.replace("clientPortAddress=127.0.0.1", "clientPortAddress=no-such-host.invalid"),
         Exits(EXIT_CONFIG), "clientPortAddress", "no-such-host.invalid"),
    Case("clientPortAddress_without_clientPort", "tickTime=2000\ndataDir={dir}/data\n"
         "clientPortAddress=127.0.0.1\n", Exits(EXIT_CONFIG), "clientPortAddress", "127.0.0.1"),
    Case("dataDir_missing", "tickTime=2000\nclientPort={port}\n",
         Exits(EXIT_CONFIG), "dataDir"),
    Case("dataDir_is_a_file", BASE.replace("{dir}/data", "/etc/hostname"),
         Exits(EXIT_DATADIR), "/etc/hostname"),
    Case("datadir_autocreate_disabled", BASE.replace("{dir}/data", "{dir}/absent"),
         Exits(EXIT_DATADIR), "zookeeper.datadir.autocreate",
         flags=["-Dzookeeper.datadir.autocreate=false"]),
    Case("maxClientCnxns_not_a_number", BASE + "maxClientCnxns=many\n",
         Exits(EXIT_CONFIG), "maxClientCnxns", "many"),
    Case("autopurge_purgeInterval_with_unit", BASE + "autopurge.purgeInterval=1h\n",
         Exits(EXIT_CONFIG), "autopurge.purgeInterval", "1h"),
    Case("initLimit_not_a_number", BASE + "initLimit=ten\n",
         Exits(EXIT_CONFIG), "initLimit", "ten"),
    Case("jvm_pause_threshold_not_a_number", BASE + "jvm.pause.info-threshold.ms=abc\n",
         Exits(EXIT_CONFIG), "jvm.pause.info-threshold.ms", "abc"),
    Case("electionAlg_not_3", BASE + "electionAlg=1\n",
         Exits(EXIT_CONFIG), "electionAlg", "1"),
    Case("peerType_unknown", BASE + "peerType=leader\n",
         Exits(EXIT_CONFIG), "peerType", "leader"),
    Case("boolean_yes", BASE + "standaloneEnabled=yes\n",
         Exits(EXIT_CONFIG), "standaloneEnabled", "yes"),
    Case("boolean_empty", BASE + "syncEnabled=\n",
         Exits(EXIT_CONFIG), "syncEnabled"),
    Case("metrics_provider_unknown", BASE + "metricsProvider.className=com.example.Nope\n",
         Exits(EXIT_CONFIG), "metricsProvider.className", "com.example.Nope"),
    Case("sasl_required_but_disabled", BASE + "quorum.auth.serverRequireSasl=true\n",
         Exits(EXIT_CONFIG), "quorum.auth.serverRequireSasl"),
    Case("secureClientPortAddress_without_port", BASE + "secureClientPortAddress=127.0.0.1\n",
         Exits(EXIT_CONFIG), "secureClientPortAddress", "127.0.0.1"),
    Case("malformed_unicode_escape", BASE + "4lw.commands.whitelist=\\uZZZZ\n",
         Exits(EXIT_CONFIG), "malformed \\uxxxx"),
    Case("server_id_not_a_number", BASE + "server.x=127.0.0.1:2888:3888\n",
         Exits(EXIT_CONFIG), "server.x", "127.0.0.1:2888:3888"),
    Case("observer_without_participants", BASE + "server.1=127.0.0.1:2888:3888:observer\n",
         Exits(EXIT_CONFIG), "server.N"),
    Case("server_line_next_to_dynamicConfigFile",
         BASE + "dynamicConfigFile={dir}/zoo.cfg.dynamic\nserver.1=127.0.0.1:2888:3888\n",
         Exits(EXIT_CONFIG), "server.1"),
    Case("dynamicConfigFile_missing", BASE + "dynamicConfigFile={dir}/absent.dynamic\n",
         Exits(EXIT_CONFIG), "absent.dynamic"),
    Case("config_file_missing", "", Exits(EXIT_CONFIG), "absent.cfg", missing_file=True),
    # Java fails on an empty path with StringIndexOutOfBoundsException
    # (exit 1, "Unexpected exception"); it is a config error, exit 2.
    Case("dataDir_empty", BASE.replace("{dir}/data", ""), Exits(1), "dataDir",
         ours=Exits(EXIT_CONFIG)),
    Case("dataLogDir_empty", BASE + "dataLogDir=\n", Exits(1), "dataLogDir",
         ours=Exits(EXIT_CONFIG)),
    # Java starts, binds no client port and serves nobody (only its
    # AdminServer); a standalone server nobody can reach is surely a
    # mistake, so ours refuses and says which key is missing.
    Case("clientPort_missing", "tickTime=2000\ndataDir={dir}/data\n",
         Idles(), "clientPort", ours=Exits(EXIT_CONFIG)),
]

ACCEPTED = [
    Case("minimal", BASE, Serves(), probes={"ruok": NOT_WHITELISTED}),
    Case("comments_separators_continuation",
         "# a comment\n! also a comment\n   # indented comment\n"
         "tickTime : 2000\n"
         "dataDir {dir}/data\n"
         "clientPort\t=\t{port}\n"
         "   clientPortAddress = 127.0.0.1   \n"
         "4lw.commands.whitelist=srvr,\\\n      ruok\n"
         "someUnknownKey=whatever\n",
         Serves(), probes={"ruok": "imok"}),
    Case("crlf_duplicates_unicode_escape",
         BASE.replace("\n", "\r\n").replace("clientPort={port}", "clientPort=1\r\nclientPort={port}")
         + "4lw.commands.whitelist=\\u0072uok\r\n",
         Serves(), probes={"ruok": "imok"}),
    Case("dash_d_flag_sets_unknown_key", BASE, Serves(),
         flags=["-Dzookeeper.4lw.commands.whitelist=ruok"], probes={"ruok": "imok"}),
    Case("zoo_cfg_wins_over_dash_d", BASE + "4lw.commands.whitelist=srvr\n", Serves(),
         flags=["-Dzookeeper.4lw.commands.whitelist=ruok"], probes={"ruok": NOT_WHITELISTED}),
    Case("whitelist_with_junk_entries", BASE + "4lw.commands.whitelist= bogus,,ruok ,xyz\n",
         Serves(), probes={"ruok": "imok"}),
    Case("whitelist_star", BASE + "4lw.commands.whitelist=*\n", Serves(),
         probes={"ruok": "imok"}),
    Case("tickTime_negative_with_explicit_timeouts",
         BASE.replace("tickTime=2000", "tickTime=-2000")
         + "minSessionTimeout=4000\nmaxSessionTimeout=40000\n", Serves()),
    Case("lenient_system_properties",
         BASE + "snapCount=abc\npreAllocSize=abc\nsnapshot.compression.method=lz4\n"
         "globalOutstandingLimit=lots\nmaxCnxns=-3\ndigest.enabled=maybe\nforceSync=maybe\n"
         "jute.maxbuffer=abc\nadmin.serverPort=abc\n", Serves()),
    Case("lenient_known_keys",
         BASE + "autopurge.snapRetainCount=1\nmaxClientCnxns=-1\nclientPortListenBacklog=-5\n"
         "initLimit=0\nsyncLimit=0\nobserverMasterPort=0\npeerType=OBSERVER\n"
         "standaloneEnabled=TRUE\nelectionAlg=3\n", Serves()),
    Case("single_server_line_runs_standalone",
         BASE + "server.1=127.0.0.1:2888:3888\ninitLimit=10\nsyncLimit=5\n", Serves()),
    Case("dataLogDir_separate", BASE + "dataLogDir={dir}/txnlog\n", Serves()),
    Case("relative_dataDir", BASE.replace("{dir}/data", "./data"), Serves()),
    Case("empty_dynamicConfigFile", BASE + "dynamicConfigFile={dir}/zoo.cfg.dynamic\n",
         Serves()),
    Case("clientPort_zero_padded", BASE.replace("clientPort={port}", "clientPort=0{port}"),
         Serves()),
]

ALL = REFUSED + ACCEPTED


def shipped_config_case():
    """The repo's conf/zoo.cfg, with its dataDir and clientPort moved to
    the test's: Java must accept our sample as it is."""
    lines = []
    for line in (REPO / "conf" / "zoo.cfg").read_text().splitlines():
        if line.startswith("dataDir="):
            line = "dataDir={dir}/data"
        elif line.startswith("clientPort="):
            line = "clientPort={port}\nclientPortAddress=127.0.0.1"
        lines.append(line.replace("{", "{{").replace("}", "}}")
                     if "{dir}" not in line and "{port}" not in line else line)
    return Case("shipped_conf_zoo_cfg", "\n".join(lines) + "\n", Serves(),
                probes={"ruok": "imok"})


ALL.append(shipped_config_case())


@dataclass
class Outcome:
    exit_code: int = None        # None: it did not exit by itself
    serving: bool = False
    probes: dict = field(default_factory=dict)
    output: str = ""
    port: int = 0

    def behaviour(self):
        if self.exit_code is not None:
            return Exits(self.exit_code)
        return Serves() if self.serving else Idles()


def command(impl, case, cfg_path):
    flags = COMMON_FLAGS + case.flags
    if impl == "java":
        return (["java"] + JVM_FLAGS + flags
                + ["-cp", java_classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                   str(cfg_path)])
    return [str(RUST_BIN)] + flags + [str(cfg_path)]


def srvr_mode(port):
    try:
        answer = four_letter(port, "srvr", timeout=1.0)
    except OSError:
        return None
    for line in answer.splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):]
    return None


def run_case(impl, case, workdir):
    """Start one server on the case's config; see what it does."""
    workdir.mkdir(parents=True)
    port = free_port()
    cfg_path = workdir / ("absent.cfg" if case.missing_file else "zoo.cfg")
    if not case.missing_file:
        (workdir / "zoo.cfg.dynamic").write_text("")
        cfg_path.write_text(case.cfg.format(dir=workdir, port=port))
    log_path = workdir / "output.log"
    env = dict(os.environ, RUST_LOG="info")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command(impl, case, cfg_path), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir, env=env,
                                start_new_session=True)
    outcome = Outcome(port=port)
    # An Idles case never serves: give it a short look, the others time
    # to serve (a JVM on a busy machine can take a while).
    deadline = time.monotonic() + (4.0 if isinstance(case.java, Idles) else 30.0)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                outcome.exit_code = proc.returncode
                break
            if srvr_mode(port) == "standalone":
                outcome.serving = True
                for word in case.probes:
                    outcome.probes[word] = four_letter(port, word, timeout=5.0)
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    outcome.output = log_path.read_text(errors="replace")
    return outcome


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """(impl, case name) -> Outcome, for every case, run in parallel."""
    for impl in IMPLS:
        require_impl(impl)
    root = tmp_path_factory.mktemp("config-cases")
    # The slow ones (a server that never serves is watched for seconds)
    # first, so they overlap with the rest.
    slow_first = sorted(ALL, key=lambda c: not isinstance(c.java, Idles))
    jobs = [(impl, case) for case in slow_first for impl in IMPLS]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {(impl, case.name): pool.submit(run_case, impl, case,
                                                  root / ("%s-%s" % (case.name, impl)))
                   for impl, case in jobs}
        return {key: f.result() for key, f in futures.items()}


def describe(outcome):
    tail = "\n".join(outcome.output.splitlines()[-25:])
    return "%r; output tail:\n%s" % (outcome.behaviour(), tail)


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_refused_config(case, outcomes):
    if "java" in IMPLS:
        java = outcomes[("java", case.name)]
        assert java.behaviour() == case.java, "Java 3.8.0: " + describe(java)
    if "rust" in IMPLS:
        ours = outcomes[("rust", case.name)]
        assert ours.behaviour() == case.expected_ours, "ours: " + describe(ours)
        if isinstance(case.expected_ours, Exits):
            assert case.key in ours.output, "ours does not name %r: %s" % (case.key, describe(ours))
            if case.value is not None:
                assert case.value in ours.output, (
                    "ours does not show the value %r: %s" % (case.value, describe(ours)))


@pytest.mark.parametrize("case", [c for c in ALL if c not in REFUSED], ids=lambda c: c.name)
def test_accepted_config(case, outcomes):
    results = {impl: outcomes[(impl, case.name)] for impl in IMPLS}
    for impl, outcome in results.items():
        assert outcome.behaviour() == Serves(), "%s: %s" % (impl, describe(outcome))
        assert outcome.probes == case.probes, "%s: %s" % (impl, describe(outcome))


def test_startup_prints_the_effective_config(outcomes):
    """Ours logs every effective setting once at startup, Java-like."""
    if "rust" not in IMPLS:
        pytest.skip("only ours prints this")
    ours = outcomes[("rust", "minimal")]
    assert "Starting server with the effective configuration:" in ours.output
    for line in ("tickTime=2000", "clientPortAddress=127.0.0.1:%d" % ours.port,
                 "minSessionTimeout=4000", "maxSessionTimeout=40000"):
        assert line in ours.output, describe(ours)
