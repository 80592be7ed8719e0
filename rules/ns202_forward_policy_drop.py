"""NS202: the FORWARD policy DROP drops forwarded pod traffic (read from the reachability graph)."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.firewall_fixes import accept_commands, allow_for, persist_hint
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.graph.reachability import FlowResult
from netsnap.trace.hooks import parse_check
from netsnap.trace.result import Step


class ForwardPolicyDrop(Rule):
    meta = RuleMeta(
        id="NS202",
        name="forward-policy-drop",
        title="FORWARD policy DROP and nothing accepts the pod network",
        cause="forward-policy-drop",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FIREWALL,
        main=True,
        requires=("firewall",),
        applies="overlay",
        what=(
            "Reads the reachability graph: pod traffic between this node's pods and the other nodes' pods is traced "
            "through the FORWARD chain of every enforced view. It fires when no rule decides such a packet and the "
            "chain's policy DROP does."
        ),
        why=(
            "Docker ≥ 1.13 sets the FORWARD policy to DROP when it enables ip_forward. flannel < 0.9.1, or flannel "
            "with `--iptables-forward-rules=false`, adds no ACCEPT for the pod network, so every packet between "
            "flannel.1 and the pod bridge is dropped: pods cannot talk across nodes."
        ),
        example=(
            "```\n:FORWARD DROP [1204:96320]\n-A FORWARD -j DOCKER-USER\n"
            "(no -A FORWARD -s 10.244.0.0/16 -j ACCEPT)\n```"
        ),
        fix=(
            "Accept the pod network in FORWARD (`iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT` and "
            "`iptables -A FORWARD -d 10.244.0.0/16 -j ACCEPT`) and persist it, upgrade flannel (≥ 0.9.1 adds these), "
            "or set the policy back with `iptables -P FORWARD ACCEPT` if that fits your security policy."
        ),
        references=(
            "https://github.com/moby/moby/pull/28257",
            "https://github.com/flannel-io/flannel/pull/872",
            "https://man7.org/linux/man-pages/man8/iptables.8.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        facts = ctx.graph.facts(host)
        net = facts.network
        several = len(ctx.graph.engine.hosts[host.name].views) > 1
        grouped: dict[str, list[tuple[FlowResult, Step]]] = {}
        for flow, step in ctx.graph.blocked("|nf|"):
            nf = parse_check(step.check)
            if nf is not None and nf.host == host.name and nf.position is None and nf.chain == "FORWARD":
                grouped.setdefault(step.check, []).append((flow, step))
        for check, items in grouped.items():
            nf = parse_check(check)
            assert nf is not None
            flow, step = items[0]
            view = f" in the {nf.view} view (every view applies)" if several else ""
            ev = list(step.consulted)
            if facts.network_inferred and "network" in facts.evidence:
                ev.append(facts.evidence["network"])
            remediation: list[str] = []
            for _, s in items:
                remediation.extend(accept_commands(nf, allow_for(s.packet, net, forward=True), several))
            cmd = nf.view if several and nf.view != "iptables" else "iptables"
            remediation = [*dict.fromkeys(remediation), persist_hint(nf.view),
                           f"# or upgrade flannel (>= 0.9.1 adds them); or: {cmd} -P FORWARD ACCEPT"]
            labels = list(dict.fromkeys(f.flow.label for f, _ in items))
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-forward-policy" + (f"-{nf.view}" if several else ""),
                confidence=Confidence.MEDIUM if any(f.doubts for f, _ in items) else Confidence.HIGH,
                explanation=(
                    f"On {host.name} the FORWARD chain's policy is DROP{view} and no rule accepts the pod network "
                    f"{net}: {'; '.join(labels[:2])} fall through to the policy and are dropped."
                    + (" (No subnet.env or net-conf.json: the pod network was read from flannel.1 and its routes.)"
                       if facts.network_inferred else "")
                ),
                evidence=ev,
                remediation=remediation,
                path=ctx.graph.path(items[0][0]),
                impact=66,
                checks=[check],
            )


rule = ForwardPolicyDrop()
