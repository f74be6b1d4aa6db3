"""A throwaway MIT Kerberos KDC for the interop tests.

`MiniKdc(workdir).start()` makes a realm (ZK.TEST) in `workdir` with
Debian's krb5-kdc tools (kdb5_util, kadmin.local, krb5kdc), serving on a
free loopback port, and `keytab(principal)` adds a principal with a random
key and exports it to a keytab. `krb5_conf` is the client/server config
file (pass it as -Djava.security.krb5.conf, or KRB5_CONFIG).
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from conftest import free_port

REALM = "ZK.TEST"
TOOLS = ("kdb5_util", "kadmin.local", "krb5kdc")


def available():
    return all(shutil.which(t) or Path("/usr/sbin", t).exists() for t in TOOLS)


def _tool(name):
    return shutil.which(name) or str(Path("/usr/sbin", name))


class MiniKdc:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.krb5_conf = self.dir / "krb5.conf"
        self.kdc_conf = self.dir / "kdc.conf"
        self.proc = None
        self.env = dict(os.environ, KRB5_CONFIG=str(self.krb5_conf),
                        KRB5_KDC_PROFILE=str(self.kdc_conf))

    def start(self, timeout=30.0):
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            "  default_realm = %(realm)s\n"
            "  dns_lookup_kdc = false\n  dns_lookup_realm = false\n"
            "  rdns = false\n  udp_preference_limit = 1\n"
            "  default_ccache_name = FILE:%(dir)s/ccache\n"
            "[realms]\n  %(realm)s = {\n    kdc = 127.0.0.1:%(port)d\n  }\n"
            "[domain_realm]\n  localhost = %(realm)s\n"
            % {"realm": REALM, "port": self.port, "dir": self.dir})
        self.kdc_conf.write_text(
            "[kdcdefaults]\n  kdc_ports = %(port)d\n  kdc_tcp_ports = %(port)d\n"
            "[realms]\n  %(realm)s = {\n"
            "    database_name = %(dir)s/principal\n"
            "    key_stash_file = %(dir)s/stash\n"
            "    acl_file = %(dir)s/kadm5.acl\n"
            "    max_life = 1h\n"
            "  }\n[logging]\n  kdc = FILE:%(dir)s/kdc.log\n"
            % {"realm": REALM, "port": self.port, "dir": self.dir})
        (self.dir / "kadm5.acl").write_text("")
        self._run(_tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", "master-password")
        self.proc = subprocess.Popen([_tool("krb5kdc"), "-n", "-r", REALM], env=self.env,
                                     stdout=open(self.dir / "krb5kdc.out", "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("krb5kdc exited: %s" % (self.dir / "krb5kdc.out").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("krb5kdc did not listen on %d" % self.port)

    def keytab(self, principal, name=None):
        """Adds `principal` (random key) and exports it; returns the keytab."""
        path = self.dir / (name or principal.replace("/", "_").replace("@", "_") + ".keytab")
        self._run(_tool("kadmin.local"), "-r", REALM, "-q", "addprinc -randkey %s" % principal)
        self._run(_tool("kadmin.local"), "-r", REALM, "-q", "ktadd -k %s %s" % (path, principal))
        return path

    def _run(self, *args):
        proc = subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError("%s failed: %s%s" % (" ".join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
