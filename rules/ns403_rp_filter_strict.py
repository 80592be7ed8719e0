"""NS403: strict rp_filter on a multi-homed host whose overlay paths are asymmetric."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.cluster import connected_networks, lookup_route
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, iface_sysctl
from netsnap.model import Host
from netsnap.model.evidence import Evidence

ROUTE_SOURCES = ("ip_route", "route_n", "proc_net_route")
VIRTUAL = ("flannel", "cni", "docker", "veth", "lo", "cali", "kube-ipvs", "virbr")


def effective_rp_filter(host: Host, iface: str) -> tuple[int, list[Evidence]]:
    """The kernel uses max(conf.all.rp_filter, conf.<iface>.rp_filter)."""
    best, ev = 0, []
    for s in (host.sysctls.get("net.ipv4.conf.all.rp_filter"), iface_sysctl(host, iface, "rp_filter")):
        if s is not None and s.value.strip().isdigit():
            best = max(best, int(s.value.strip()))
            ev.append(evidence(host, s))
    return best, ev


class RpFilterStrict(Rule):
    meta = RuleMeta(
        id="NS403",
        name="rp-filter-strict",
        title="Strict rp_filter drops overlay packets on an asymmetric multi-homed host",
        cause="rp-filter-strict",
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        category=Category.KERNEL,
        requires=("sysctl", "ip_addr"),
        requires_any=(ROUTE_SOURCES,),
        what=(
            "On a host with more than one physical NIC, takes the interface the overlay's packets arrive on (the "
            "one owning the VTEP address) and the route back to each peer VTEP. When the route back leaves by "
            "another interface and rp_filter is strict (max(all, iface) = 1) on the arrival interface, it fires."
        ),
        why=(
            "Strict reverse-path filtering drops a packet whose source is not routed back through the interface it "
            "arrived on. Encapsulated packets from such peers are dropped silently before they reach flannel.1."
        ),
        example=(
            "```\nnet.ipv4.conf.all.rp_filter = 1\npeer 10.20.0.7 arrives on eth1, route back via eth0 (default)\n```"
        ),
        fix=(
            "Use loose mode on the involved interfaces (`sysctl -w net.ipv4.conf.all.rp_filter=2 "
            "net.ipv4.conf.eth1.rp_filter=2`, persisted in /etc/sysctl.d/), or add a route to the peers' network via "
            "the arrival interface."
        ),
        references=("flannel.md C-25 (strict rp_filter)", "linux-packet-path.md (rp_filter)"),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        nics = {i.name for i, _ in connected_networks(host) if not i.name.startswith(VIRTUAL) and not i.master}
        if len(nics) < 2 or f.vtep is None or f.vtep_iface is None:
            return
        arrival = f.vtep_iface
        asym = []
        for p in ctx.cluster.peers(host):
            if p.vtep is None:
                continue
            back = lookup_route(host, p.vtep)
            if back is not None and back.dev and back.dev != arrival:
                asym.append((p, back))
        if not asym:
            return
        level, ev = effective_rp_filter(host, arrival)
        if level != 1:
            return
        ev.extend(evidence(host, r) for _, r in asym[:3])
        peers = [p for p, _ in asym]
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-{arrival}",
            explanation=(
                f"Overlay packets from {', '.join(f'{p.name} ({p.vtep})' for p in peers[:3])} arrive on {arrival} "
                f"of {host.name}, but the route back leaves by {asym[0][1].dev}; with strict rp_filter on {arrival} "
                f"the kernel drops them as spoofed."
            ),
            evidence=ev,
            remediation=[
                f"sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{arrival}.rp_filter=2",
                f"printf 'net.ipv4.conf.all.rp_filter = 2\\nnet.ipv4.conf.{arrival}.rp_filter = 2\\n' "
                "> /etc/sysctl.d/90-rp-filter.conf",
                f"# or route the peers' network via {arrival}",
            ],
            path=ctx.cluster.path(host, peers),
            impact=72,
        )


rule = RpFilterStrict()
