"""NS311: one node's overlay MTU is larger than a peer's underlay can carry (mixed jumbo/standard MTUs)."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.combine.overlay import OVERHEAD, OverlayFacts
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.model import Interface


def _underlay(f: OverlayFacts) -> Interface | None:
    dev = f.device
    name = (dev.vxlan.dev if dev is not None and dev.vxlan is not None else None) or f.vtep_iface
    return f.host.interfaces.get(name) if name else None


class OverlayMtuAcrossNodes(Rule):
    meta = RuleMeta(
        id="NS311",
        name="overlay-mtu-across-nodes",
        title="A node's overlay MTU is larger than a peer's underlay can carry",
        cause="mtu-mismatch",
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        category=Category.OVERLAY,
        requires=("link_details",),
        applies="overlay",
        scope="snapshot",
        min_hosts=2,
        what=(
            "Compares every node's flannel device MTU with every peer's underlay interface MTU minus the "
            "encapsulation overhead (50 for VXLAN, 28 for udp). Each node sizes its overlay from its own NIC, so "
            "mixed jumbo (9000/9001) and standard (1500) NICs give the jumbo node an overlay MTU its peers cannot "
            "receive. A peer whose own overlay is already too big for its NIC is left to NS303."
        ),
        why=(
            "The jumbo node sends encapsulated packets larger than the peer's NIC MTU: they are dropped (or "
            "fragmented and then dropped by cloud networks). Small requests work, large transfers and TLS "
            "handshakes from that node to the peer's pods hang."
        ),
        example="```\nmaster: flannel.1 mtu 8950 (eth1 mtu 9000)\nnode1: eth1 mtu 1500\n```",
        fix=(
            "Use one MTU for the overlay on every node: set VXLAN `Backend.MTU` to the smallest underlay MTU "
            "(flannel ≥ 0.21.3), or give every node's cluster NIC the same MTU; restart flanneld and the container "
            "runtime."
        ),
        references=(
            "https://github.com/flannel-io/flannel/issues/841",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#data-plane",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        nodes = [ctx.cluster.of(h) for h in ctx.hosts]
        nodes = [f for f in nodes if f.device is not None and f.device.mtu is not None]
        for f in nodes:
            assert f.device is not None and f.device.mtu is not None
            too_small = []
            for peer in nodes:
                under = _underlay(peer)
                if peer is f or under is None or under.mtu is None:
                    continue
                limit = under.mtu - OVERHEAD.get(peer.backend, 50)
                assert peer.device is not None and peer.device.mtu is not None
                if peer.device.mtu > limit:
                    continue  # the peer's own overlay is too big for its NIC: NS303 reports that host
                if f.device.mtu > limit:
                    too_small.append((peer, under, limit))
            if not too_small:
                continue
            peer, under, limit = too_small[0]
            names = ", ".join(p.host.name for p, _, _ in too_small)
            yield self.finding(
                hosts=[f.host.name, *[p.host.name for p, _, _ in too_small]],
                key=f"{f.host.name}-mtu-{f.device.mtu}",
                explanation=(
                    f"{f.device.name} on {f.host.name} has MTU {f.device.mtu}, but {peer.host.name}'s underlay "
                    f"{under.name} has MTU {under.mtu} (overlay limit {limit}); full-size packets from "
                    f"{f.host.name}'s pods to pods on {names} are too big once encapsulated and are dropped."
                ),
                evidence=[evidence(f.host, f.device), *[evidence(p.host, u) for p, u, _ in too_small[:3]]],
                remediation=[
                    f'# net-conf.json: "Backend": {{"Type": "{f.backend}", "MTU": {under.mtu}}}   (flannel >= 0.21.3;'
                    " the smallest underlay MTU)",
                    f"# or: ip link set dev {under.name} mtu <same as {f.host.name}> on {peer.host.name}",
                    "# then restart flanneld and the container runtime on every node",
                ],
                path=f"{f.host.name} → {names} pods (large packets)",
                impact=34,
            )


rule = OverlayMtuAcrossNodes()
