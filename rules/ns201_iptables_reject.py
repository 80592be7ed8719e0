"""NS201: a host-firewall rule rejects or drops a flow the cluster needs (read from the reachability graph)."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.firewall_fixes import (
    IPTABLES_VIEWS,
    VIEW_LABELS,
    accept_commands,
    allow_for,
    manager_of,
    persist_hint,
)
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.graph.reachability import FlowResult
from netsnap.trace.hooks import parse_check
from netsnap.trace.nft import firewalld_zone
from netsnap.trace.result import Step

IMPACT = {"overlay-in": 76, "overlay": 75, "host-pods": 74, "pods": 65}

CONTENT = {
    "rule": "On {host}, {what}{view} {verb} traffic the cluster needs: {flows}.{tail}",
    "policy": "On {host}, the {chain} policy DROP{view} drops traffic the cluster needs: {flows}; no rule before "
              "the policy accepts it.",
    "tail-iptables": " flannel's own ACCEPT rules come after it, so they are never reached.",
    "tail-firewalld": " firewalld's zone {zone} does not allow it: its rules come before anything flannel adds.",
    "tail-other": "",
}


class IptablesReject(Rule):
    meta = RuleMeta(
        id="NS201",
        name="iptables-reject",
        title="A host-firewall rule rejects or drops traffic the cluster needs",
        cause="iptables-reject",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FIREWALL,
        main=True,
        requires=("firewall",),
        applies="overlay",
        what=(
            "Reads the reachability graph: every flow the cluster needs (the overlay's UDP port between the VTEPs, "
            "hosts to remote pods, pods to pods) is traced through every enforced firewall view of every host "
            "(iptables legacy and nft-backed, native nftables and firewalld), in the kernel's order. It fires for "
            "each rule that rejects or drops one of those flows, and for an INPUT or OUTPUT policy DROP that does "
            "(FORWARD's policy is NS202). All blocking rules on a path are reported, not only the first."
        ),
        why=(
            "flannel *appends* its ACCEPT rules, so a REJECT earlier in the chain — RHEL's default "
            "`-A INPUT -j REJECT --reject-with icmp-host-prohibited` — wins: encapsulated packets from the peers never "
            "reach the VXLAN device, or forwarded pod traffic is rejected, and cross-node pod traffic dies."
        ),
        example=(
            "```\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\n"
            "-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n```"
        ),
        fix=(
            "Insert ACCEPT rules above the REJECT (`iptables -I INPUT 5 -p udp -s 192.168.0.16 --dport 8472 -j "
            "ACCEPT`, `iptables -I FORWARD 1 -s 172.18.0.0/16 -j ACCEPT`) and persist them, or remove the REJECT "
            "rules. With firewalld: `firewall-cmd --permanent --zone=<zone> --add-port=8472/udp`, the pod network in "
            "the trusted zone, then `firewall-cmd --reload`. With UFW: `ufw allow from <peer> to any port 8472 proto "
            "udp` and `ufw route allow` for the pod network."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#firewalls",
            "https://man7.org/linux/man-pages/man8/iptables.8.html",
            "https://firewalld.org/documentation/man-pages/firewall-cmd.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        network = ctx.graph.facts(host).network
        several = len(ctx.graph.engine.hosts[host.name].views) > 1
        grouped: dict[str, list[tuple[FlowResult, Step]]] = {}
        for flow, step in ctx.graph.blocked("|nf|"):
            nf = parse_check(step.check)
            if nf is None or nf.host != host.name:
                continue
            if nf.position is None and nf.chain == "FORWARD":
                continue  # NS202 owns the FORWARD policy
            grouped.setdefault(step.check, []).append((flow, step))
        for check, items in grouped.items():
            nf = parse_check(check)
            assert nf is not None
            flow, step = items[0]
            labels = list(dict.fromkeys(f.flow.label for f, _ in items))
            manager = manager_of(nf)
            zone = firewalld_zone(nf.chain) if nf.view == "firewalld" else None
            view = _view_text(manager, zone, several)
            remediation: list[str] = []
            for _, s in items:
                forward = "FORWARD" in nf.chain or "FWD" in nf.chain or "forward" in nf.chain
                allow = allow_for(s.packet, network, forward=forward)
                remediation.extend(accept_commands(nf, allow, several, zone))
            remediation = [*dict.fromkeys(remediation), persist_hint(manager)]
            fields = {"host": host.name, "view": view, "flows": "; ".join(labels[:3]) + ("; …" if len(labels) > 3
                                                                                          else ""),
                      "chain": nf.chain}
            if nf.position is None:
                text = CONTENT["policy"].format(**fields)
            else:
                verb = "rejects" if "REJECT" in step.detail.upper() else "drops"
                if nf.view in IPTABLES_VIEWS:
                    what, tail = f"rule {nf.position} of {nf.chain}", CONTENT["tail-iptables"]
                else:
                    what = f"the rule with handle {nf.position} in {nf.table} chain {nf.chain}"
                    tail = CONTENT["tail-firewalld"].format(zone=zone) if zone else CONTENT["tail-other"]
                text = CONTENT["rule"].format(what=what, verb=verb, tail=tail, **fields)
            doubtful = any(f.doubts for f, _ in items)
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{nf.chain}-{nf.position if nf.position is not None else 'policy'}"
                + (f"-{nf.view}" if several else ""),
                confidence=Confidence.MEDIUM if doubtful else Confidence.HIGH,
                explanation=text,
                evidence=step.consulted,
                remediation=remediation,
                path=ctx.graph.path(items[0][0]),
                impact=max(IMPACT.get(f.flow.kind, 60) for f, _ in items),
                checks=[check],
            )


def _view_text(manager: str, zone: str | None, several: bool) -> str:
    """` (firewalld zone public)`, ` (UFW)`, ` (in the iptables-legacy view: ...)`: which firewall blocks."""
    label = VIEW_LABELS.get(manager, manager)
    if manager == "firewalld":
        return f" (firewalld{f' zone {zone}' if zone else ''})"
    if manager in ("ufw", "nftables"):
        return f" ({label})"
    return f" (in the {manager} view: the kernel applies every view)" if several else ""


rule = IptablesReject()
