"""Network partitions for the fault suite: each peer in a network namespace.

`Network(tag)` makes a bridge in the test's own namespace with the address
10.231.<net>.1/24 and, per peer, a namespace holding the far end of a veth
pair on that bridge, with the address 10.231.<net>.<10+sid>. Peers run in
their namespace (`ip netns exec`), bind every port to their own address and
reach each other through the bridge. Clients and the suite's four-letter
words keep using 127.0.0.1:<clientPort>: a TcpProxy per peer forwards it to
the peer's address, so the harness's helpers work unchanged.

A link between two peers is cut in one of two ways:
- refused: a blackhole route to the other's address in each of the two
  namespaces; every send fails at once and the peers' connections break;
- silent: an nftables rule in each namespace drops what arrives from the
  other; packets vanish, connections stay open and stall, and only the
  peers' own timeouts (syncLimit, the election's) tell them.
Healing deletes the routes or rules. Clients are never cut off: only links
between peers.

Everything here is made by the test (names carry the process id) and
removed by `close()`; it needs root (CAP_NET_ADMIN), ip (iproute2) and nft (nftables).
"""

import itertools
import os
import shutil
import subprocess

from proxy import TcpProxy
from test_zab_learner import ZabPeer

IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or "/usr/sbin/nft"


def ip(*args, ns=None, check=True):
    cmd = [IP] + (["netns", "exec", ns, IP] if ns else []) + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr.strip()))
    return out


def nft(ns, command):
    out = subprocess.run([IP, "netns", "exec", ns, NFT] + command.split(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("nft %s in %s: %s" % (command, ns, out.stderr.strip()))


_made = itertools.count()


class Network:
    def __init__(self, tag=None):
        if os.geteuid() != 0:
            raise RuntimeError("network partitions need root (ip netns, veth, bridge)")
        # New names for every network: the kernel frees a deleted
        # namespace's devices later, in the background.
        self.tag = tag if tag is not None else (os.getpid() * 7 + next(_made)) % 100000
        self.net = 100 + self.tag % 150
        self.bridge = "zfb%d" % self.tag
        self.namespaces = []
        self.host_ends = []
        self.cuts = {}  # frozenset((a, b)) -> silent
        self.proxies = []
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", "10.231.%d.1/24" % self.net, "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def address(self, sid):
        return "10.231.%d.%d" % (self.net, 10 + sid)

    def namespace(self, sid):
        return "zf%d-%d" % (self.tag, sid)

    def add(self, sid):
        ns, host, far = self.namespace(sid), "zf%dh%d" % (self.tag, sid), "zf%dn%d" % (self.tag, sid)
        ip("netns", "add", ns)
        self.namespaces.append(ns)
        ip("link", "add", host, "type", "veth", "peer", "name", far)
        ip("link", "set", far, "netns", ns)
        self.host_ends.append(host)
        ip("link", "set", host, "master", self.bridge)
        ip("link", "set", host, "up")
        ip("addr", "add", self.address(sid) + "/24", "dev", far, ns=ns)
        ip("link", "set", far, "up", ns=ns)
        ip("link", "set", "lo", "up", ns=ns)
        nft(ns, "add table inet zf")
        nft(ns, "add chain inet zf in { type filter hook input priority 0; }")

    def cut(self, a, b, silent=False):
        """Cuts the link between peers a and b (sids), both ways."""
        for x, y in ((a, b), (b, a)):
            if silent:
                nft(self.namespace(x), "add rule inet zf in ip saddr %s drop" % self.address(y))
            else:
                ip("route", "add", "blackhole", self.address(y) + "/32", ns=self.namespace(x))
        self.cuts[frozenset((a, b))] = silent

    def heal(self, a, b):
        silent = self.cuts.pop(frozenset((a, b)))
        for x, y in ((a, b), (b, a)):
            if silent:
                nft(self.namespace(x), "flush chain inet zf in")
            else:
                ip("route", "del", "blackhole", self.address(y) + "/32", ns=self.namespace(x), check=False)
        for pair, still_silent in self.cuts.items():  # a flush took other silent cuts of these two
            if still_silent and pair & {a, b}:
                for x, y in (tuple(pair), tuple(pair)[::-1]):
                    if x in (a, b):
                        nft(self.namespace(x), "add rule inet zf in ip saddr %s drop" % self.address(y))

    def heal_all(self):
        for pair in list(self.cuts):
            self.heal(*sorted(pair))

    def close(self):
        for p in self.proxies:
            p.close()
        for host in self.host_ends:
            ip("link", "del", host, check=False)  # and its other end, at once
        for ns in self.namespaces:
            ip("netns", "del", ns, check=False)
        ip("link", "del", self.bridge, check=False)


class NsPeer(ZabPeer):
    """A ZabPeer living in its own namespace of `net`; its clientPort on
    127.0.0.1 is a proxy to its address."""

    def __init__(self, kind, sid, workdir, net):
        super().__init__(kind, sid, workdir)
        self.net = net
        net.add(sid)
        self.address = net.address(sid)
        self.proxy = TcpProxy(self.client_port, self.address, listen_port=self.client_port)
        net.proxies.append(self.proxy)

    def write_config(self, peers):
        super().write_config(peers)
        lines = []
        for line in self.cfg.read_text().splitlines():
            key = line.split("=", 1)[0]
            if key == "clientPortAddress":
                line = "clientPortAddress=" + self.address
            elif key.startswith("server."):
                line = line.replace("127.0.0.1", self.net.address(int(key.split(".")[1])))
            lines.append(line)
        self.cfg.write_text("\n".join(lines) + "\n")

    def command(self):
        return [IP, "netns", "exec", self.net.namespace(self.sid)] + super().command()
