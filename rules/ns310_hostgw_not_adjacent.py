"""NS310: the host-gw backend with a peer that is not on a network this host shares."""

from __future__ import annotations

import re
from collections.abc import Iterable

from netsnap.combine.overlay import connected_networks
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at
from netsnap.model.evidence import Evidence

_BACKEND = re.compile(r"Backend type: (\S+)")


class HostGwNotAdjacent(Rule):
    meta = RuleMeta(
        id="NS310",
        name="hostgw-not-adjacent",
        title="host-gw backend, but a peer is not on a network this node shares",
        cause="missing-peer-route",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        requires=("addresses",),
        requires_any=(("flannel_config", "flannel_log", "link_details"),),
        applies="overlay",
        what=(
            "When net-conf's `Backend.Type` is `host-gw`, checks that every peer's public IP (from the other "
            "bundles or this node's `Subnet added: … via …` journal lines) lies in a network directly connected to "
            "this node."
        ),
        why=(
            "host-gw routes each peer's pod subnet *via the peer's address*, which only works with direct layer-2 "
            "adjacency: the kernel refuses the route (`network is unreachable`) or the cloud drops the routed "
            "packets, and pods on that peer are unreachable."
        ),
        example=(
            "```\nflannel/net-conf.json: \"Type\": \"host-gw\"\n"
            "Subnet added: 10.244.1.0/24 via 10.30.0.12   (no connected network contains 10.30.0.12)\n```"
        ),
        fix=(
            "Use the `vxlan` backend (with `\"DirectRouting\": true` to keep host-gw speed between adjacent nodes), "
            "or put all nodes on one L2 network."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#host-gw",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        nc = host.flannel.net_conf
        said = next((m.group(1) for e in reversed(host.flannel.events) if (m := _BACKEND.search(e.message))), None)
        backend = (nc.backend_type if nc is not None else said or "").lower()
        if backend != "host-gw":
            return  # vxlan/udp (net-conf, the journal, or a flannel.N/flannel0 device), or unknown
        nets = [a.network for _, a in connected_networks(host)]
        far = [p for p in ctx.cluster.peers(host) if p.vtep is not None and not any(p.vtep in n for n in nets)]
        if not far:
            return
        src = nc.src if nc is not None else host.provenance("flannel_journal")
        ev: list[Evidence] = [evidence_at(host, src, f'"Backend": {{"Type": "{backend}"}}')]
        for p in far[:4]:
            ev.extend(p.evidence[:1])
        errors = [e for e in host.flannel.events if "network is unreachable" in e.message]
        ev.extend(evidence(host, e) for e in errors[-2:])
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-hostgw",
            explanation=(
                f"{host.name} uses the host-gw backend, but {', '.join(f'{p.name} ({p.vtep})' for p in far[:3])} "
                f"{'is' if len(far) == 1 else 'are'} on no network this node is connected to; host-gw cannot route "
                f"pod subnets via a non-adjacent address, so those peers' pods are unreachable."
            ),
            evidence=ev,
            remediation=[
                '# net-conf.json: "Backend": {"Type": "vxlan", "DirectRouting": true}',
                "# then restart flannel on every node",
            ],
            path=ctx.cluster.path(host, far),
            impact=80,
        )


rule = HostGwNotAdjacent()
