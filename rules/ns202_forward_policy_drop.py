"""NS202: FORWARD policy DROP with nothing accepting the pod network."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.chainwalk import ipv4_rulesets, walk
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.flows import needed_flows
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at

FIREWALL_SOURCES = ("iptables_save", "iptables_nft_save", "iptables_legacy_save", "iptables_list")
FLANNEL_SOURCES = ("subnet_env", "net_conf", "ip_addr")  # ip_addr: the pod network read from flannel.1/routes


class ForwardPolicyDrop(Rule):
    meta = RuleMeta(
        id="NS202",
        name="forward-policy-drop",
        title="FORWARD policy DROP and nothing accepts the pod network",
        cause="forward-policy-drop",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FIREWALL,
        requires_any=(FIREWALL_SOURCES, FLANNEL_SOURCES),
        what=(
            "Walks the FORWARD chain in order for pod traffic between this node's lease and the other nodes' pods "
            "(both directions). It fires when no rule decides the packet and the chain's policy DROP does."
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
        references=("flannel.md C-10 (FORWARD policy DROP, Docker ≥ 1.13)", "moby PR #28257"),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        facts = ctx.cluster.of(host)
        rulesets = ipv4_rulesets(host)
        if not rulesets or facts.network is None:
            return
        flows = [f for f in needed_flows(host, ctx.cluster) if f.chain == "FORWARD"]
        for rs in rulesets:
            dropped = []
            for flow in flows:
                res = walk(rs, "FORWARD", flow.packet)
                if res is not None and res.rule is None and res.denied:
                    dropped.append((flow, res))
            if not dropped:
                continue
            primary = rs is rulesets[0]
            view = "" if primary else f" in the {rs.variant} view (legacy and nft tables both apply)"
            cmd = "iptables" if primary else rs.variant
            flow, res = dropped[0]
            pc = res.policy_chain
            ev = [evidence_at(host, pc.src, f":FORWARD {pc.policy}")] if pc else []
            ev.extend(evidence(host, r, f"{r.raw}   (matched, did not decide)") for r in res.trail[:5])
            net = facts.network
            if facts.network_inferred and "network" in facts.evidence:
                ev.append(facts.evidence["network"])
            peers = list(dict.fromkeys(f.peer for f, _ in dropped))
            peer_objs = [p for p in ctx.cluster.peers(host) if p.name in peers]
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-forward-policy" + ("" if primary else f"-{rs.variant}"),
                confidence=Confidence.HIGH if res.certain else Confidence.MEDIUM,
                explanation=(
                    f"On {host.name} the FORWARD chain's policy is {res.action}{view} and no rule accepts the pod "
                    f"network {net}: {'; '.join(f.label for f, _ in dropped[:2])} fall through to the policy and "
                    f"are dropped."
                    + (" (No subnet.env or net-conf.json: the pod network was read from flannel.1 and its routes.)"
                       if facts.network_inferred else "")
                ),
                evidence=ev,
                remediation=[
                    f"{cmd} -A FORWARD -s {net} -j ACCEPT",
                    f"{cmd} -A FORWARD -d {net} -j ACCEPT",
                    f"# persist the rules; or upgrade flannel (>= 0.9.1 adds them); or: {cmd} -P FORWARD ACCEPT",
                ],
                path=ctx.cluster.path(host, peer_objs) if peer_objs else ctx.cluster.path(host),
                impact=66,
            )


rule = ForwardPolicyDrop()
