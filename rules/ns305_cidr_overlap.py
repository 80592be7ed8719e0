"""NS305: the flannel network overlaps an underlay network or another route."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from netsnap.combine.overlay import connected_networks
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.model.evidence import Evidence


class CidrOverlap(Rule):
    meta = RuleMeta(
        id="NS305",
        name="cidr-overlap",
        title="The flannel network overlaps an underlay network or another route",
        cause="cidr-overlap",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        requires=("addresses", "routes"),
        requires_any=(("flannel_lease", "flannel_config"),),
        applies="overlay",
        what=(
            "Checks FLANNEL_NETWORK (net-conf `Network`) against every address and main-table route of the host "
            "that is not flannel's own (flannel.1, the pod bridge holding the lease, peer routes via flannel.1)."
        ),
        why=(
            "If the pod network overlaps the node network, a VPN or Docker's default 172.17.0.0/16, traffic for the "
            "overlapping range follows the wrong route and flannel fails to add peer routes (`failed to add "
            "vxlanRoute ... invalid argument`)."
        ),
        example="```\nFLANNEL_NETWORK=172.16.0.0/12\neth0: inet 172.16.0.4/24\n```",
        fix=(
            "Choose a pod network that overlaps nothing (`Network` in net-conf.json and the controller-manager's "
            "`--cluster-cidr`), or move Docker's bridge off it (`--bip`, or `\"bridge\": \"none\"` when CNI owns "
            "cni0)."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#kubernetes-specific",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        net = f.network
        if net is None or f.network_inferred:
            return  # an inferred pod network is a guess: overlaps with it prove nothing
        own = {f.device.name if f.device else "flannel.1"}
        if f.bridge is not None:
            own.add(f.bridge.name)
        hits: list[tuple[str, Evidence]] = []
        for iface, addr in connected_networks(host):
            if iface.name in own or not addr.network.overlaps(net):
                continue
            rec = next(a for a in iface.addresses if a.address == addr)
            hits.append((f"{iface.name} {addr}", evidence(host, rec)))
        for r in host.routes_in("main"):
            if r.is_default or not isinstance(r.dst, IPv4Network) or r.dev in own or not r.dst.overlaps(net):
                continue
            if any(r.dev == i.name and r.dst == a.network for i, a in connected_networks(host)):
                continue  # the connected route of an address already reported
            hits.append((f"route {r.dst} dev {r.dev}", evidence(host, r)))
        if not hits:
            return
        ev = [e for _, e in hits]
        if "network" in f.evidence:
            ev.insert(0, f.evidence["network"])
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-{net}",
            explanation=(
                f"The flannel network {net} on {host.name} overlaps {', '.join(h for h, _ in hits[:4])}; packets for "
                f"the overlapping addresses follow the non-flannel route, so pods there (or that network) become "
                f"unreachable."
            ),
            evidence=ev,
            remediation=[
                '# net-conf.json (or the etcd <prefix>/config): "Network": "<a range that overlaps nothing>"',
                "# e.g. kubectl -n kube-system edit cm kube-flannel-cfg, matching kube-controller-manager "
                "--cluster-cidr",
            ],
            path=ctx.cluster.path(host),
            impact=50,
        )


rule = CidrOverlap()
