"""Extract role-normalised facts from a Host so two hosts of the same role compare cleanly.

Host-specific values are replaced by their role: the host's own addresses become `<self>`, its
flannel lease `<lease>`, addresses inside the flannel network `<pod-net>`, peer overlay routes are
summarised, kube-proxy's hashed chain names lose their hash, MACs and counters are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from netsnap.combine.overlay import overlay_facts
from netsnap.diff.model import Fact
from netsnap.engine.rule import evidence, evidence_at
from netsnap.model.host import Host
from netsnap.model.iptables import IptRule

KUBE_HASHED = re.compile(r"^(KUBE-(?:SVC|SEP|FW|XLB|EXT|SVL|FWD)-)[A-Z0-9]{16}$")
KUBE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SEP-", "KUBE-FW-", "KUBE-XLB-", "KUBE-EXT-", "KUBE-SVL-")
WATCHED_SYSCTL = re.compile(
    r"^net\.(ipv4\.ip_forward|ipv4\.conf\.[^.]+\.(rp_filter|arp_ignore|arp_announce|forwarding)"
    r"|bridge\.bridge-nf-call-ip6?tables|netfilter\.nf_conntrack_max|nf_conntrack_max)$"
)
IP_TOKEN = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b")


class Roles:
    """What is host-specific on one host: its addresses, its lease, the flannel network."""

    def __init__(self, host: Host) -> None:
        self.own = {str(a.address.ip) for a in host.addresses()}
        facts = overlay_facts(host)  # the one derivation of lease and pod network (netsnap.combine.overlay)
        self.lease: IPv4Network | None = facts.lease
        self.pod_net: IPv4Network | None = facts.network

    def net(self, net: IPv4Network | IPv6Network) -> str:
        if self.lease is not None and net == self.lease:
            return "<lease>"
        if self.pod_net is not None and net == self.pod_net:
            return "<pod-net>"
        if (
            self.pod_net is not None
            and isinstance(net, IPv4Network)
            and net.subnet_of(self.pod_net)
            and net.prefixlen >= self.pod_net.prefixlen
        ):
            return "<peer-lease>" if net.prefixlen < 32 else "<pod-net address>"
        if net.prefixlen in (32, 128) and str(net.network_address) in self.own:
            return "<self>"
        return str(net)

    def addr(self, text: str) -> str:
        if text in self.own:
            return "<self>"
        try:
            ip = ip_address(text)
        except ValueError:
            return text
        if self.lease is not None and ip in self.lease:
            return "<lease address>"
        if self.pod_net is not None and ip in self.pod_net:
            return "<pod-net address>"
        return text

    def text(self, text: str) -> str:
        """Normalise every IPv4 address or CIDR inside free text (rule text, flag values)."""

        def repl(m: re.Match[str]) -> str:
            token = m.group(0)
            if "/" in token:
                try:
                    return self.net(ip_network(token, strict=False))
                except ValueError:
                    return token
            return self.addr(token)

        return IP_TOKEN.sub(repl, text)


def chain_name(name: str) -> str:
    m = KUBE_HASHED.match(name)
    return f"{m.group(1)}*" if m else name


def rule_signature(rule: IptRule, roles: Roles) -> str:
    """A rule's meaning as text: matches and target, with roles and kube hashes normalised."""
    parts: list[str] = []
    for label, match in (("-s", rule.source), ("-d", rule.destination)):
        if match is not None:
            parts.append(f"{'! ' if match.negated else ''}{label} {roles.net(match.net)}")
    for label, name in (("-i", rule.in_iface), ("-o", rule.out_iface), ("-p", rule.protocol)):
        if name is not None:
            parts.append(f"{'! ' if name.negated else ''}{label} {name.value}")
    for m in rule.matches:
        if m.module == "comment":
            continue
        opts = " ".join(
            f"{'! ' if o.negated else ''}--{o.name} {' '.join(roles.text(v) for v in o.values)}".strip()
            for o in m.options
        )
        parts.append(f"-m {m.module} {opts}".strip() if m.known else f"-m {m.module} <{roles.text(m.text)}>")
    if rule.target is not None:
        opts = " ".join(f"--{k} {roles.text(v)}" for k, v in sorted(rule.target.options.items()))
        jump = "-g" if rule.target.goto else "-j"
        parts.append(f"{jump} {chain_name(rule.target.name)} {opts}".strip())
    return " ".join(parts)


def _network_facts(host: Host, roles: Roles) -> Iterator[Fact]:
    for iface in host.interfaces.values():
        if iface.name.startswith(("veth", "cali", "vxlan.calico")):
            continue
        if iface.mtu is not None:
            yield Fact(kind="mtu", key=iface.name, value=str(iface.mtu), evidence=[evidence(host, iface)])
        for addr in iface.addresses:
            if addr.address.version != 4 and addr.scope == "link":
                continue
            net = roles.net(addr.address.network)
            if net.startswith("<"):
                net = f"{net} ({'lease address' if net == '<lease>' else 'flannel'})"
            yield Fact(kind="network", key=f"{iface.name} {net}", value="present", evidence=[evidence(host, addr)])


def _route_facts(host: Host, roles: Roles) -> Iterator[Fact]:
    defaults = [r for r in host.routes_in("main") if r.is_default and r.type == "unicast"]
    if defaults or host.has(host.routes_origin or "ip_route"):
        value = "; ".join(
            sorted(f"dev {r.dev} via {roles.addr(str(r.gateway)) if r.gateway else '-'} metric {r.metric}"
                   for r in defaults)
        ) or "none"
        yield Fact(kind="default-route", key="main", value=value, evidence=[evidence(host, r) for r in defaults])
    peer_routes = 0
    for r in host.routes:
        if r.is_default or r.table == "local" or r.type in ("local", "broadcast"):
            continue
        dst = roles.net(r.dst)
        if dst == "<peer-lease>":
            peer_routes += 1
            continue
        gw = roles.addr(str(r.gateway)) if r.gateway else "-"
        yield Fact(
            kind="route",
            key=f"{r.table} {r.type} {dst} dev {r.dev}",
            value=f"via {gw} metric {r.metric}",
            evidence=[evidence(host, r)],
        )
    if peer_routes:
        yield Fact(kind="route", key="overlay peer-lease routes", value="present")
    for pr in host.policy_rules:
        sel = " ".join(
            p
            for p in (
                f"from {roles.net(pr.from_net)}" if pr.from_net else "from all",
                f"to {roles.net(pr.to_net)}" if pr.to_net else "",
                f"iif {pr.iif}" if pr.iif else "",
                f"oif {pr.oif}" if pr.oif else "",
                f"fwmark {pr.fwmark}" if pr.fwmark else "",
            )
            if p
        )
        yield Fact(
            kind="policy-rule",
            key=f"{pr.priority}: {'not ' if pr.invert else ''}{sel}",
            value=f"{pr.action} {pr.table or ''}".strip(),
            evidence=[evidence(host, pr)],
        )


def _iptables_facts(host: Host, roles: Roles) -> Iterator[Fact]:
    ruleset = host.filter_ruleset
    if ruleset is None:
        return
    for table in ruleset.tables.values():
        for chain in table.chains.values():
            if chain.name.startswith(KUBE_CHAIN_PREFIXES):
                continue
            if chain.policy is not None:
                yield Fact(
                    kind="iptables-policy",
                    key=f"{table.name} {chain.name}",
                    value=chain.policy,
                    evidence=[evidence_at(host, chain.src, f":{chain.name} {chain.policy}")],
                )
            for rule in chain.rules:
                yield Fact(
                    kind="iptables-rules",
                    key=f"{table.name} {chain.name}",
                    value=rule_signature(rule, roles),
                    evidence=[evidence(host, rule)],
                )


def _kernel_facts(host: Host) -> Iterator[Fact]:
    for key, s in host.sysctls.items():
        if WATCHED_SYSCTL.match(key):
            parts = key.split(".")
            per_iface = len(parts) == 5 and parts[2] == "conf" and parts[3] not in ("all", "default")
            if per_iface and parts[3] not in host.interfaces:
                continue
            yield Fact(kind="sysctl", key=key, value=s.value.strip(), evidence=[evidence(host, s)])


def _flannel_facts(host: Host, roles: Roles) -> Iterator[Fact]:
    for iface in host.interfaces.values():
        if iface.vxlan is None:
            continue
        vx = iface.vxlan
        ev = [evidence_at(host, vx.src, iface.raw)]
        local_nic = next(
            (i.name for i in host.interfaces.values() if vx.local is not None and any(
                a.address.ip == vx.local for a in i.addresses)),
            None,
        )
        yield Fact(kind="vxlan", key=f"{iface.name} vni", value=str(vx.vni), evidence=ev)
        yield Fact(kind="vxlan", key=f"{iface.name} dstport", value=str(vx.dstport), evidence=ev)
        yield Fact(kind="vxlan", key=f"{iface.name} underlay NIC", value=str(vx.dev or local_nic), evidence=ev)
        yield Fact(kind="vxlan", key=f"{iface.name} learning", value=str(vx.learning).lower(), evidence=ev)
    for label, config in (("files", host.flannel.files_config), ("process", host.flannel.process_config)):
        if config is None:
            continue
        for name, fv in config.flags.items():
            yield Fact(
                kind="flannel-option",
                key=f"{label} --{name}",
                value=roles.text(fv.value),
                evidence=[evidence_at(host, fv.src, f"{fv.name}={fv.value}")],
            )
    chosen = [e for e in host.flannel.events if e.kind == "iface-chosen"]
    if chosen:
        last = chosen[-1]
        nic = last.fields.get("iface")
        if not nic and "address" in last.fields:
            nic = next(
                (i.name for i in host.interfaces.values()
                 if any(str(a.address.ip) == last.fields["address"] for a in i.addresses)),
                roles.addr(last.fields["address"]),
            )
        yield Fact(kind="flannel-iface", key="chosen external interface", value=str(nic),
                   evidence=[evidence(host, last)])


def host_facts(host: Host) -> list[Fact]:
    """Every comparable fact of one host."""
    roles = Roles(host)
    return [
        *_network_facts(host, roles),
        *_route_facts(host, roles),
        *_iptables_facts(host, roles),
        *_kernel_facts(host),
        *_flannel_facts(host, roles),
    ]
