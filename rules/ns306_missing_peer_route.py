"""NS306: a peer's lease without the route, neighbour or fdb entry that should point at it."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from netsnap.combine.flows import pod_address
from netsnap.combine.overlay import Peer
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence
from netsnap.graph.reachability import ReachabilityGraph
from netsnap.model import Host
from netsnap.model.evidence import Evidence


def _norm_mac(mac: str | None) -> str:
    return (mac or "").lower()


class MissingPeerRoute(Rule):
    meta = RuleMeta(
        id="NS306",
        name="missing-peer-route",
        title="A peer's lease has no route, neighbour or fdb entry pointing at it",
        cause="missing-peer-route",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.OVERLAY,
        main=True,
        requires=("neighbours", "fdb", "routes"),
        applies="overlay",
        what=(
            "For every peer lease (from the other bundles, or from this node's journal), checks the three entries "
            "flannel's VXLAN backend programs: the route `P.0/24 via P.0 dev flannel.1 onlink`, the neighbour "
            "`P.0 dev flannel.1 lladdr <peer VtepMAC> PERMANENT` and the fdb entry `<peer VtepMAC> dev flannel.1 dst "
            "<peer VTEP>`. When the peer's bundle is present, the MAC must also be the peer's flannel.1 MAC. Old "
            "L3-miss mode (one `<network> dev flannel.1` route, flannel ≤ 0.8) only needs the route."
        ),
        why=(
            "flannel sometimes misses lease events (restarts, reboots, races) or another agent changes flannel.1's "
            "MAC: without the route the packets leave by the default route, without the neighbour or fdb entry (or "
            "with a stale MAC) they are encapsulated to nowhere. Traffic to that one node's pods fails."
        ),
        example="```\nlease 10.244.2.0/24 (node2, VTEP 192.168.0.17): no route via flannel.1, no fdb entry\n```",
        fix=(
            "Restart flannel on the node (`systemctl restart flanneld` or delete the kube-flannel pod); upgrade "
            "flannel."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan",
            "https://man7.org/linux/man-pages/man8/bridge.8.html",
            "https://man7.org/linux/man-pages/man8/ip-neighbour.8.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        dev = f.device
        if dev is None or dev.vxlan is None or f.backend != "vxlan":
            return
        for peer in ctx.cluster.peers(host):
            if peer.lease is None or (f.lease is not None and peer.lease == f.lease):
                continue
            problems, ev = self._check_peer(ctx.graph, host, dev.name, peer)
            if not problems:
                continue
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{peer.lease}",
                explanation=(
                    f"{host.name} has no working overlay entry for {peer.name}'s pods {peer.lease}: "
                    f"{'; '.join(problems)}. Traffic from {host.name} to those pods cannot be encapsulated to "
                    f"{peer.vtep or 'the peer'}."
                ),
                evidence=ev,
                remediation=[
                    "systemctl restart flanneld   # or: kubectl -n kube-flannel delete pod <kube-flannel pod on this "
                    "node>",
                    f"# check afterwards: ip route get {peer.lease.network_address + 2}; ip neigh show dev {dev.name}; "
                    f"bridge fdb show dev {dev.name}",
                ],
                path=ctx.cluster.path(host, [peer]),
                impact=70,
                checks=ctx.graph.blocked_toward(host.name, peer.lease),
            )

    def _check_peer(self, graph: ReachabilityGraph, host: Host, devname: str, peer: Peer
                    ) -> tuple[list[str], list[Evidence]]:
        assert peer.lease is not None
        lease: IPv4Network = peer.lease
        problems: list[str] = []
        ev: list[Evidence] = list(peer.evidence[:1])
        decision = graph.route(host, pod_address(lease))  # the kernel's choice: policy rules, every table
        route = decision.route
        if decision.kind != "unicast" or route is None or decision.dev != devname:
            if route is not None and peer.vtep is not None and route.gateway == peer.vtep:
                return [], []  # DirectRouting: via the peer's address on the underlay
            chosen = f" (the kernel takes: {decision.detail})" if decision.detail else ""
            problems.append(f"no route for {lease} via {devname}{chosen}")
            ev.extend(decision.consulted[:2])
            return problems, ev
        ev.append(evidence(host, route))
        if decision.gateway is None:
            return [], []  # L3-miss mode: neighbours and fdb entries are learnt on demand
        gw = decision.gateway
        neigh = next((n for n in host.neighbours if n.address == gw and n.dev == devname), None)
        if neigh is None or not neigh.lladdr:
            problems.append(f"no neighbour entry for {gw} on {devname}")
            return problems, ev
        ev.append(evidence(host, neigh))
        mac = _norm_mac(neigh.lladdr)
        peer_mac = None
        if peer.host is not None:
            pdev = next((i for i in peer.host.interfaces.values() if i.vxlan is not None and i.name == devname), None)
            peer_mac = _norm_mac(pdev.mac) if pdev and pdev.mac else None
        if peer_mac and peer_mac != mac:
            problems.append(f"the neighbour entry for {gw} has MAC {mac} but {peer.name}'s {devname} has {peer_mac}")
        fdbs = [e for e in host.fdb if _norm_mac(e.mac) == mac and e.dev == devname]
        if not fdbs:
            problems.append(f"no fdb entry for {mac} on {devname}")
        elif peer.vtep is not None and all(e.dst != peer.vtep for e in fdbs):
            ev.extend(evidence(host, e) for e in fdbs[:2])
            problems.append(f"the fdb entry for {mac} points at {fdbs[0].dst}, not {peer.name}'s VTEP {peer.vtep}")
        return problems, ev


rule = MissingPeerRoute()
