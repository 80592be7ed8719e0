"""NS102: the same destination routed via different interfaces at the same metric; two NICs in one subnet."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Interface, IPv4Network

from netsnap.combine.overlay import connected_networks
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at, iface_sysctl
from netsnap.model import Host, Route

VIRTUAL_PREFIXES = ("flannel", "cni", "docker", "veth", "lo", "kube-ipvs", "cali", "virbr", "br-")


def _arp_mitigated(host: Host, ifaces: list[str]) -> bool:
    """arp_ignore>=1 and arp_announce>=2 (effective: max of all and the interface), or arp_filter=1."""

    def eff(key: str, name: str) -> int:
        per_iface = iface_sysctl(host, name, key)
        vals = [host.sysctl(f"net.ipv4.conf.all.{key}"), per_iface.value if per_iface else None]
        return max((int(v) for v in vals if v is not None and v.strip().isdigit()), default=0)

    return all(
        (eff("arp_ignore", n) >= 1 and eff("arp_announce", n) >= 2) or eff("arp_filter", n) == 1 for n in ifaces
    )


class DuplicateSubnetRoute(Rule):
    meta = RuleMeta(
        id="NS102",
        name="duplicate-subnet-route",
        title="The same prefix is routed via different interfaces at the same metric",
        cause="duplicate-subnet-route",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.ROUTING,
        main=True,
        requires=("addresses", "routes"),
        what=(
            "Groups the main table's non-default IPv4 routes by destination prefix. Two routes for one prefix with "
            "the same metric through different interfaces are an error. It also looks for two physical interfaces "
            "with addresses in one subnet: a warning unless ARP is pinned (`arp_ignore>=1` and `arp_announce>=2`, "
            "or `arp_filter=1`) and their connected routes have different metrics."
        ),
        why=(
            "Only one of two equal routes is used at a time, and ARP replies for either address may come from "
            "either NIC (ARP flux): peers learn the wrong MAC, and traffic alternates between a working and a "
            "broken path — the classic steady ~50% ping loss."
        ),
        example=(
            "```\n9.91.0.0   0.0.0.0  255.255.0.0  U  0  0  0 eth0\n"
            "9.91.0.0   0.0.0.0  255.255.0.0  U  0  0  0 eth1\n```"
        ),
        fix=(
            "Remove the address (or route) from the NIC that should not be on that network "
            "(`ip route del 9.91.0.0/16 dev eth1`, `ip addr del ... dev eth1`), and fix the interface configuration. "
            "If both NICs must stay, pin ARP (`sysctl -w net.ipv4.conf.all.arp_ignore=1 "
            "net.ipv4.conf.all.arp_announce=2`) and use policy routing per source address."
        ),
        references=(
            "https://man7.org/linux/man-pages/man8/ip-route.8.html",
            "https://docs.kernel.org/networking/ip-sysctl.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        groups: dict[tuple[IPv4Network, int], list[Route]] = {}
        for r in host.routes_in("main"):
            if r.is_default or not isinstance(r.dst, IPv4Network) or r.type != "unicast" or r.nexthops:
                continue
            groups.setdefault((r.dst, r.metric), []).append(r)
        reported: set[IPv4Network] = set()
        for (dst, metric), rs in sorted(groups.items(), key=lambda kv: (int(kv[0][0].network_address), kv[0][1])):
            devs = list(dict.fromkeys(r.dev for r in rs if r.dev))
            if len(devs) < 2:
                continue
            reported.add(dst)
            keep = rs[0]
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{dst}",
                explanation=(
                    f"{host.name} routes {dst} through {len(devs)} interfaces ({', '.join(devs)}) at the same metric "
                    f"{metric}; the kernel uses only one of them, and ARP answers for the network come from both NICs, "
                    f"so traffic to {dst} alternates between a working and a broken path."
                ),
                evidence=[evidence(host, r) for r in rs],
                checks=ctx.graph.blocked_toward(host.name, dst) if isinstance(dst, IPv4Network) else [],
                remediation=[
                    f"# keep {dst} on {keep.dev}; remove it from the other interface(s):",
                    *[f"ip route del {dst} dev {r.dev}" + (f" metric {metric}" if metric else "") for r in rs[1:]],
                    "# and remove the address/route from that interface's configuration (ifcfg/netplan)",
                ],
                path=f"{host.name} → {dst}",
                impact=55,
            )
        # two physical NICs with addresses in one subnet
        by_net: dict[IPv4Network, list[tuple[str, IPv4Interface]]] = {}
        records = {}
        for iface, addr in connected_networks(host):
            if iface.name.startswith(VIRTUAL_PREFIXES) or iface.master or iface.kind in ("bridge", "vxlan", "veth"):
                continue
            by_net.setdefault(addr.network, []).append((iface.name, addr))
            for a in iface.addresses:
                if a.address == addr:
                    records[(iface.name, addr)] = a
        for net, members in sorted(by_net.items(), key=lambda kv: int(kv[0].network_address)):
            names = list(dict.fromkeys(n for n, _ in members))
            if len(names) < 2 or net in reported:
                continue
            if _arp_mitigated(host, names):
                continue
            ev = [evidence(host, records[m]) for m in members if m in records]
            for n in names:
                per = iface_sysctl(host, n, "arp_ignore")
                val = per.value if per else host.sysctl("net.ipv4.conf.all.arp_ignore")
                if val is not None:
                    ev.append(evidence_at(host, None, f"arp_ignore for {n} = {val}", "sysctl"))
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{net}-nics",
                severity=Severity.WARNING,
                confidence=Confidence.MEDIUM,
                title="Two interfaces have addresses in one subnet",
                explanation=(
                    f"{host.name} has addresses in {net} on {', '.join(names)} without ARP pinning; either NIC may "
                    f"answer ARP for both addresses (ARP flux), so peers can send traffic for one address to the "
                    f"other NIC."
                ),
                evidence=ev,
                remediation=[
                    "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2",
                    "printf 'net.ipv4.conf.all.arp_ignore = 1\\nnet.ipv4.conf.all.arp_announce = 2\\n' "
                    "> /etc/sysctl.d/90-arp.conf",
                    f"# or remove the {net} address from one of {', '.join(names)}",
                ],
                path=f"{host.name} → {net}",
                impact=40,
            )


rule = DuplicateSubnetRoute()
