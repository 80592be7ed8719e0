"""NS204: flannel's (or kube-proxy's) rules live in one firewall backend, the blocking rule in another."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.firewall_fixes import VIEW_LABELS, manager_of
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.model.iptables import Chain
from netsnap.trace.hooks import parse_check
from netsnap.trace.index import HostIndex

OWNERS = (("FLANNEL", "flannel"), ("KUBE-", "kube-proxy"))

CONTENT = {
    "split": "On {host}, {owners} wrote {its} rules into the {theirs} view, but {blocker} rule {where} decides "
             "first: the kernel runs every backend, so an ACCEPT in one cannot overrule a REJECT or DROP in "
             "another. It blocks {flows}.",
}


def _commented(chain: Chain, word: str) -> bool:
    """Whether a rule comment of the chain holds `word`. A comment is part of its rule's line (unless a
    backslash escape splits the word), so the lines rule out most chains without building their rules."""
    if not chain.may_mention(word):
        return False
    return any(word in (r.comment or "") for r in chain.rules)


def _owner_views(hidx: HostIndex) -> dict[str, set[str]]:
    """Per view, who wrote rules there (flannel: FLANNEL-* chains or `flanneld` comments; kube-proxy: KUBE-*)."""
    out: dict[str, set[str]] = {}
    for view, chains in hidx.views.items():
        for (_, name), chain in chains.chains():
            for prefix, owner in OWNERS:
                if owner in out.get(view, ()):
                    continue
                if name.startswith(prefix) or _commented(chain, owner.split("-")[0]):
                    out.setdefault(view, set()).add(owner)
    return out


class SplitFirewallBackend(Rule):
    meta = RuleMeta(
        id="NS204",
        name="split-firewall-backend",
        title="flannel's rules are in one firewall backend while another backend blocks the traffic",
        cause="split-firewall-backend",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FIREWALL,
        requires=("firewall",),
        applies="overlay",
        what=(
            "Reads the reachability graph: when a required flow is stopped by a rule of a firewall view (iptables-"
            "legacy, iptables-nft, native nftables, firewalld) that holds none of flannel's or kube-proxy's rules, "
            "while those rules sit in another view of the same host, it names the split: the blocking backend and "
            "the one flannel writes to."
        ),
        why=(
            "A host can run iptables-legacy and nf_tables at once (an old iptables binary in a container, a distro "
            "that switched backends, firewalld's own nftables table). The kernel runs every one of them; flannel's "
            "ACCEPT for the pod network in one backend does nothing against a REJECT in the other, and "
            "`iptables -L` in one view does not even show the other's rules."
        ),
        example=(
            "```\niptables-nft-save:    -A FORWARD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j "
            "ACCEPT\niptables-legacy-save: -A FORWARD -j REJECT --reject-with icmp-host-prohibited\n```"
        ),
        fix=(
            "Use one backend: make flannel/kube-proxy and the host's firewall use the same iptables (`update-"
            "alternatives --set iptables /usr/sbin/iptables-nft` or `-legacy`), flush the other backend's tables "
            "(`iptables-legacy -F` after checking what else uses them), or allow the cluster's traffic in the "
            "blocking backend too."
        ),
        references=(
            "https://developers.redhat.com/blog/2020/08/18/iptables-the-two-variants-and-their-relationship-with-"
            "nftables",
            "https://github.com/kubernetes/kubernetes/issues/71305",
            "https://wiki.nftables.org/wiki-nftables/index.php/Legacy_xtables_tools",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        hidx = ctx.graph.engine.hosts[host.name]
        owners = _owner_views(hidx)
        if not owners:
            return
        grouped: dict[str, list[tuple[str, str]]] = {}
        for flow, step in ctx.graph.blocked(f"{host.name}|nf|"):
            nf = parse_check(step.check)
            if nf is None or nf.view in owners or manager_of(nf) == "ufw":
                continue
            grouped.setdefault(step.check, []).append((flow.flow.label, step.detail))
        for check, items in grouped.items():
            nf = parse_check(check)
            assert nf is not None
            who = sorted({o for v in owners.values() for o in v})
            theirs = " and ".join(sorted(owners))
            flows = list(dict.fromkeys(label for label, _ in items))
            where = f"{nf.position} of {nf.chain}" if nf.position is not None else f"(the {nf.chain} policy)"
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{nf.view}-{nf.chain}-{nf.position if nf.position is not None else 'policy'}",
                explanation=CONTENT["split"].format(
                    host=host.name, owners=" and ".join(who), its="its" if len(who) == 1 else "their",
                    theirs=theirs, blocker=VIEW_LABELS.get(nf.view, nf.view), where=where,
                    flows="; ".join(flows[:3])),
                evidence=[e for _, s in ctx.graph.blocked(check) for e in s.consulted][:4],
                remediation=[
                    f"# {host.name} runs {', '.join(sorted(hidx.views))}: keep one backend",
                    "update-alternatives --display iptables   # which backend the iptables command uses",
                    f"{'iptables-legacy' if nf.view == 'iptables-legacy' else 'iptables-nft'}-save   "
                    "# review the blocking backend's rules before flushing it",
                ],
                path=ctx.graph.path(ctx.graph.blocked(check)[0][0]),
                checks=[check],
            )


rule = SplitFirewallBackend()
