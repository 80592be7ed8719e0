"""A flannel-VXLAN cluster in namespaces, shaped like a Kubernetes master and nodes.

Host i (0 = "master", then "node1", "node2") has two NICs: eth0 on the management bridge
(172.16.0.(11+i)/24) and eth1 on the cluster bridge (192.168.0.(11+i)/24); both bridges live in
the "fabric" namespace. flannel.1 is a VXLAN device (VNI 1, dstport 8472, local = eth1 address,
10.244.i.0/32, mtu 1450) with, per peer, the route `10.244.j.0/24 via 10.244.j.0 dev flannel.1
onlink`, a PERMANENT neighbour and an fdb entry - what flanneld installs. cni0 (10.244.i.1/24)
holds one container namespace ("c-<host>") at 10.244.i.5.

`collect()` runs the real collector inside each host namespace (with its own UTS namespace, so
the bundle carries the host name) and returns the bundle paths. `build(cloud=True)` gives the NICs
OpenStack's MAC prefix (fa:16:3e), the evidence netsnap takes for a cloud VM behind a security group.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.lab.netns import NetnsLab

REPO = Path(__file__).resolve().parents[2]
COLLECTOR = REPO / "collectors" / "netsnap-collect.sh"
NAMES = ("master", "node1", "node2")
# The firewall a RHEL/CentOS host ships with (the incident-A REJECT rules), as shell commands for `FlannelLab.sh`.
RHEL_DEFAULT = """
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited
"""


@dataclass(frozen=True)
class LabHost:
    index: int

    @property
    def name(self) -> str:
        return NAMES[self.index]

    @property
    def mgmt_ip(self) -> str:
        return f"172.16.0.{11 + self.index}"

    @property
    def cluster_ip(self) -> str:
        return f"192.168.0.{11 + self.index}"

    @property
    def lease(self) -> str:
        return f"10.244.{self.index}.0"

    @property
    def pod_ip(self) -> str:
        return f"10.244.{self.index}.5"

    @property
    def mac(self) -> str:
        return f"0a:00:00:00:00:{self.index + 1:02x}"


class FlannelLab:
    """Build with `FlannelLab(lab, hosts=2).build()`; tweak with `lab.sh(host, ...)` afterwards."""

    def __init__(self, lab: NetnsLab, hosts: int = 2, vtep: dict[str, str] | None = None) -> None:
        self.lab = lab
        self.hosts = [LabHost(i) for i in range(hosts)]
        self.vtep = vtep or {}

    def host(self, name: str) -> LabHost:
        return next(h for h in self.hosts if h.name == name)

    def vtep_of(self, h: LabHost) -> str:
        return self.vtep.get(h.name, h.cluster_ip)

    def build(self, eth1_mtu: dict[str, int] | None = None, first_address: dict[str, str] | None = None,
              cloud: bool = False) -> FlannelLab:
        lab = self.lab
        lab.add("fabric")
        lab.sh("fabric", "for b in br-mgmt br-cluster; do ip link add $b type bridge; ip link set $b up; done")
        for h in self.hosts:
            lab.add(h.name)
            lab.add(f"c-{h.name}")
            lab.veth(h.name, "eth0", "fabric", f"m{h.index}", master="br-mgmt")
            mtu = (eth1_mtu or {}).get(h.name)
            lab.veth(h.name, "eth1", "fabric", f"c{h.index}", master="br-cluster", mtu=mtu)
            extra = (first_address or {}).get(h.name, "")
            macs = (f"ip link set eth0 address fa:16:3e:00:00:{h.index + 1:02x}\n"
                    f"ip link set eth1 address fa:16:3e:00:01:{h.index + 1:02x}") if cloud else ""
            lab.sh(h.name, f"""
                {macs}
                {extra}
                ip addr add {h.mgmt_ip}/24 dev eth0
                ip addr add {h.cluster_ip}/24 dev eth1
                sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
                ip link add flannel.1 type vxlan id 1 local {self.vtep_of(h)} dstport 8472 nolearning
                ip link set flannel.1 address {h.mac} mtu 1450 up
                ip addr add {h.lease}/32 dev flannel.1
                ip link add cni0 type bridge
                ip link set cni0 mtu 1450 up
                ip addr add 10.244.{h.index}.1/24 dev cni0
            """)
            lab.veth(f"c-{h.name}", "eth0", h.name, "vethc", master="cni0", mtu=1450)
            lab.sh(f"c-{h.name}", f"ip addr add {h.pod_ip}/24 dev eth0 && ip route add default via 10.244.{h.index}.1")
        for h in self.hosts:
            script = []
            for p in self.hosts:
                if p is h:
                    continue
                script += [
                    f"ip route add 10.244.{p.index}.0/24 via {p.lease} dev flannel.1 onlink",
                    f"ip neigh replace {p.lease} lladdr {p.mac} dev flannel.1 nud permanent",
                    f"bridge fdb append {p.mac} dev flannel.1 dst {self.vtep_of(p)} self permanent",
                ]
            lab.sh(h.name, "\n".join(script))
        return self

    def sh(self, host: str, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.lab.sh(host, script, check=check)

    def ping(self, host: str, ip: str, size: int | None = None, count: int = 2) -> bool:
        """The kernel's answer: does every echo of `ping -c COUNT -W 1` from `host` get a reply?"""
        opts = f"-M do -s {size - 28} " if size else ""
        res = self.lab.sh(host, f"ping -n -q -c {count} -i 0.2 -W 1 {opts}{ip}", check=False)
        return res.returncode == 0 and " 0% packet loss" in res.stdout

    def tcp_connects(self, host: str, ip: str, port: int) -> bool:
        """The kernel's answer for TCP: does `nc -z` from `host` complete a handshake?"""
        return self.lab.sh(host, f"nc -z -w 2 {ip} {port}", check=False).returncode == 0

    def udp_delivered(self, src: str, dst: str, ip: str, port: int) -> bool:
        """The kernel's answer for UDP: does a datagram sent with `nc -u` from `src` reach a listener
        on `dst`? (The listener exits after one datagram: `nc -lu -W 1`.)"""
        listener = self.lab.spawn(dst, ["nc", "-lu", "-W", "1", str(port)])
        self.lab.sh(dst, f"for i in $(seq 20); do ss -lun | grep -q ':{port} ' && exit 0; sleep 0.05; done; exit 1")
        self.lab.sh(src, f"echo ping | nc -u -w 1 {ip} {port}", check=False)
        try:
            listener.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return False
        return listener.returncode == 0

    def listen(self, host: str, port: int) -> None:
        self.lab.spawn(host, ["nc", "-lk", str(port)])
        self.lab.sh(host, f"for i in 1 2 3 4 5 6 7 8 9 10; do ss -ltn | grep -q ':{port} ' && exit 0; sleep 0.1; done; "
                          "exit 1")

    def collect(self, out: Path, names: list[str] | None = None,
                enter: dict[str, list[str]] | None = None) -> list[str]:
        """Run the collector in each host namespace (in parallel); return the bundle paths. `enter` maps a
        host to the command prefix that enters it instead of `ip netns exec` (e.g. the mount namespace of
        a firewalld started there: tests/lab/firewalld.py)."""
        procs = []
        for h in self.hosts:
            if names is not None and h.name not in names:
                continue
            d = out / h.name
            d.mkdir(parents=True, exist_ok=True)
            prefix = (enter or {}).get(h.name) or ["ip", "netns", "exec", self.lab.ns(h.name)]
            cmd = [*prefix, "unshare", "--uts", "sh", "-c",
                   f"hostname {h.name} && sh {COLLECTOR} --output {d} --timeout 5"]
            procs.append((h.name, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        paths = []
        for name, p in procs:
            stdout, stderr = p.communicate(timeout=120)
            if p.returncode != 0:
                raise RuntimeError(f"collector failed on {name}: {stderr.strip()}")
            paths.append(stdout.strip().splitlines()[-1])
        return paths
