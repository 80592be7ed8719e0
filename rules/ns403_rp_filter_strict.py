"""NS403: strict rp_filter on a multi-homed host whose overlay paths are asymmetric."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.graph.reachability import FlowResult
from netsnap.trace.result import Step


class RpFilterStrict(Rule):
    meta = RuleMeta(
        id="NS403",
        name="rp-filter-strict",
        title="Strict rp_filter drops overlay packets on an asymmetric multi-homed host",
        cause="rp-filter-strict",
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        category=Category.KERNEL,
        requires=("sysctls", "addresses", "routes"),
        what=(
            "Reads the reachability graph: every flow the cluster needs is traced with the kernel's reverse-path "
            "check on each arrival (max(all, iface) rp_filter; strict = 1 needs the best route back to the source "
            "to leave by the arrival interface, loose = 2 any route back). It fires where that check drops a "
            "required flow — typically overlay packets arriving on one NIC of a multi-homed host whose route back "
            "to the peer leaves by another."
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
        references=(
            "https://docs.kernel.org/networking/ip-sysctl.html#rp-filter",
            "https://github.com/flannel-io/flannel/issues/2388",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        grouped: dict[str, list[tuple[FlowResult, Step]]] = {}
        for flow, step in ctx.graph.blocked("|rp_filter|"):
            if step.host == host.name:
                grouped.setdefault(step.check, []).append((flow, step))
        for check, items in grouped.items():
            arrival = check.rsplit("|", 1)[1]
            flow, step = items[0]
            sources = list(dict.fromkeys(s.packet.src for _, s in items if s.packet and s.packet.src))
            labels = list(dict.fromkeys(f.flow.label for f, _ in items))
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{arrival}",
                explanation=(
                    f"Packets from {', '.join(sources[:3]) or 'the peers'} arrive on {arrival} of {host.name} and "
                    f"are dropped by reverse-path filtering: {step.detail}. This breaks {'; '.join(labels[:3])}."
                ),
                evidence=step.consulted,
                remediation=[
                    f"sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{arrival}.rp_filter=2",
                    f"printf 'net.ipv4.conf.all.rp_filter = 2\\nnet.ipv4.conf.{arrival}.rp_filter = 2\\n' "
                    "> /etc/sysctl.d/90-rp-filter.conf",
                    f"# or route the peers' network via {arrival}",
                ],
                path=ctx.graph.path(items[0][0]),
                impact=72,
                checks=[check],
            )


rule = RpFilterStrict()
