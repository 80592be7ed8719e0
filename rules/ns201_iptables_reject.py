"""NS201: a filter rule rejects or drops traffic the cluster needs (evaluated in order, through jumps)."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.chainwalk import WalkResult, ipv4_rulesets, rule_matches, walk
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.flows import Flow, needed_flows
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at
from netsnap.model import Host, IptRule, Ruleset
from netsnap.model.evidence import Evidence

FIREWALL_SOURCES = ("iptables_save", "iptables_nft_save", "iptables_legacy_save", "iptables_list")
IMPACT = {"overlay-in": 75, "overlay-out": 74, "pods-in": 65, "pods-out": 64}


def _accept_rule(flow: Flow, network: str | None) -> str:
    p = flow.packet
    if flow.kind == "overlay-in":
        return f"-p udp -s {p.src} --dport {p.dport} -j ACCEPT"
    if flow.kind == "overlay-out":
        return f"-p udp -d {p.dst} --dport {p.dport} -j ACCEPT"
    return f"-s {network} -j ACCEPT" if flow.kind == "pods-in" else f"-d {network} -j ACCEPT"


def _later_accepts(host: Host, rs: Ruleset, res: WalkResult, flow: Flow) -> list[Evidence]:
    """ACCEPT rules after the deciding rule, in the same chain, that would have let the flow through."""
    if res.rule is None:
        return []
    chain = rs.chain("filter", res.rule.chain)
    if chain is None:
        return []
    out = []
    for r in chain.rules:
        if r.position <= res.rule.position or r.target is None:
            continue
        accepting = r.target.name.upper() == "ACCEPT" or r.target.name.upper().startswith("FLANNEL")
        if accepting and rule_matches(r, flow.packet, []):
            out.append(evidence(host, r, f"{r.raw}   (never reached)"))
    return out[:3]


class IptablesReject(Rule):
    meta = RuleMeta(
        id="NS201",
        name="iptables-reject",
        title="A firewall rule rejects or drops traffic the cluster needs",
        cause="iptables-reject",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FIREWALL,
        requires_any=(FIREWALL_SOURCES,),
        what=(
            "Evaluates the host's filter table in order, the way the kernel does (rules in sequence, jumps into user "
            "chains, RETURN, goto, first terminal verdict wins), for the flows the cluster needs: the overlay's UDP "
            "port (the VXLAN device's real `dstport`) from and to every peer VTEP through INPUT and OUTPUT, and pod "
            "network to pod network in both directions through FORWARD. It fires when a REJECT or DROP rule decides "
            "one of them (or the INPUT/OUTPUT policy drops it; FORWARD's policy is NS202)."
        ),
        why=(
            "flannel *appends* its ACCEPT rules, so a REJECT earlier in the chain — RHEL's default "
            "`-A INPUT -j REJECT --reject-with icmp-host-prohibited` — wins: encapsulated packets from the peers never "
            "reach the VXLAN device, or forwarded pod traffic is rejected, and cross-node pod traffic dies."
        ),
        example=(
            "```\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\n"
            "-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n"
            "-A FORWARD -s 172.18.0.0/16 -j ACCEPT     (never reached)\n```"
        ),
        fix=(
            "Insert ACCEPT rules above the REJECT (`iptables -I INPUT 5 -p udp --dport 8472 -s 192.168.0.0/24 -j "
            "ACCEPT`, `iptables -I FORWARD 1 -s 172.18.0.0/16 -j ACCEPT`, `iptables -I FORWARD 1 -d 172.18.0.0/16 -j "
            "ACCEPT`) and persist them (`service iptables save` on RHEL 7, or your firewall's configuration), or "
            "remove the REJECT rules."
        ),
        references=(
            "flannel.md C-9 (REJECT ahead of flannel's rules)",
            "incidents.md incident A, cause 1",
            "linux-packet-path.md (netfilter traversal)",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        rulesets = ipv4_rulesets(host)
        network = ctx.cluster.of(host).network
        flows = needed_flows(host, ctx.cluster)
        grouped: dict[tuple[str, str, int | None, str], list[tuple[Flow, WalkResult]]] = {}
        views: dict[str, Ruleset] = {}
        for rs in rulesets:
            views[rs.variant] = rs
            for flow in flows:
                res = walk(rs, flow.chain, flow.packet)
                if res is None or not res.denied:
                    continue
                if res.rule is None and flow.chain == "FORWARD":
                    continue  # NS202 owns the FORWARD policy
                key = (rs.variant, flow.chain, res.rule.position if res.rule else None,
                       res.rule.chain if res.rule else flow.chain)
                grouped.setdefault(key, []).append((flow, res))
        for (variant, chain, pos, rule_chain), items in grouped.items():
            flow, res = items[0]
            rs = views[variant]
            view = "" if rs is rulesets[0] else f" (in the {variant} view: the kernel applies both)"
            ev: list[Evidence] = []
            if res.rule is not None:
                decider: IptRule = res.rule
                what = f"rule {decider.position} of {decider.chain} ({decider.target.text if decider.target else ''})"
                for r in res.trail[:-1]:
                    ev.append(evidence(host, r, f"{r.raw}   (jump)"))
                ev.append(evidence(host, decider))
                ev.extend(_later_accepts(host, rs, res, flow))
            else:
                pc = res.policy_chain
                what = f"the {chain} policy {res.action}"
                if pc is not None:
                    ev.append(evidence_at(host, pc.src, f":{pc.name} {pc.policy}"))
            insert_at = next((r.position for r in res.trail if r.chain == chain), None) if res.trail else None
            if insert_at is None:
                insert_at = 1
            peers = list(dict.fromkeys(f.peer for f, _ in items))
            labels = "; ".join(f.label for f, _ in items[:3]) + ("; …" if len(items) > 3 else "")
            verb = "rejects" if res.action == "REJECT" else "drops"
            cmd = "iptables" if not view else variant
            remediation = [f"{cmd} -I {chain} {insert_at} {_accept_rule(f, str(network))}" for f, _ in items[:4]]
            remediation = list(dict.fromkeys(remediation))
            remediation.append("# persist: service iptables save   (RHEL 7; or add the rules to your firewall config)")
            unsure = " (some earlier rules could not be evaluated: " + "; ".join(res.unknown[:2]) + ")"
            peer_objs = [p for p in ctx.cluster.peers(host) if p.name in peers]
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{chain}-{rule_chain}-{pos if pos is not None else 'policy'}"
                + ("" if not view else f"-{variant}"),
                confidence=Confidence.HIGH if res.certain else Confidence.MEDIUM,
                explanation=(
                    f"On {host.name}, {what}{view} {verb} traffic the cluster needs: {labels}. flannel's own ACCEPT "
                    f"rules are appended after it, so they are never reached." + ("" if res.certain else unsure)
                ),
                evidence=ev,
                remediation=remediation,
                path=ctx.cluster.path(host, peer_objs) if peer_objs else ctx.cluster.path(host),
                impact=IMPACT.get(flow.kind, 60),
            )


rule = IptablesReject()
