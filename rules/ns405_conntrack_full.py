"""NS405: the conntrack table is (nearly) full."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence

COUNT, MAX = "net.netfilter.nf_conntrack_count", "net.netfilter.nf_conntrack_max"
NEAR = 0.9


class ConntrackFull(Rule):
    meta = RuleMeta(
        id="NS405",
        name="conntrack-full",
        title="The conntrack table is full",
        cause="conntrack-full",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.KERNEL,
        requires_any=(("kernel_log", "sysctls"),),
        what=(
            "Counts `nf_conntrack: table full, dropping packet` lines in dmesg (an error, with first and last time), "
            f"and compares `{COUNT}` with `{MAX}` (a warning at {int(NEAR * 100)}% or more)."
        ),
        why=(
            "When the table is full the kernel drops the first packet of every new connection: random connection "
            "failures, health-check flaps and DNS timeouts under load."
        ),
        example="```\n[1234.5] nf_conntrack: nf_conntrack: table full, dropping packet\n```",
        fix=(
            "Raise the limit (`sysctl -w net.netfilter.nf_conntrack_max=262144`, or kube-proxy's `--conntrack-*` "
            "flags) and find the flow storm (`conntrack -S`, `conntrack -L | sort | uniq -c`)."
        ),
        references=(
            "https://docs.kernel.org/networking/nf_conntrack-sysctl.html",
            "https://github.com/kubernetes/kubernetes/issues/71261",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        full = [e for e in host.kernel_events if e.kind == "conntrack-full"]
        cur, mx = host.sysctls.get(COUNT), host.sysctls.get(MAX)
        ratio = None
        if cur is not None and mx is not None and cur.value.strip().isdigit() and mx.value.strip().isdigit():
            ratio = int(cur.value) / max(int(mx.value), 1)
        current = int(mx.value) if mx is not None and mx.value.strip().isdigit() else 0
        target = max(262144, current * 2)
        fix = [
            f"sysctl -w net.netfilter.nf_conntrack_max={target}",
            f"echo 'net.netfilter.nf_conntrack_max = {target}' > /etc/sysctl.d/90-conntrack.conf",
            "conntrack -S; conntrack -L | awk '{print $3, $5}' | sort | uniq -c | sort -rn | head",
        ]
        if full:
            first, last = full[0].timestamp or "?", full[-1].timestamp or "?"
            ev = [evidence(host, full[0])] + ([evidence(host, full[-1])] if len(full) > 1 else [])
            ev += [evidence(host, s) for s in (cur, mx) if s is not None]
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-conntrack",
                explanation=(
                    f"The kernel on {host.name} dropped packets because the conntrack table was full "
                    f"({len(full)} dmesg line{'s' if len(full) != 1 else ''}, first at {first}, last at {last}); "
                    f"new connections fail at random while it lasts."
                ),
                evidence=ev,
                remediation=fix,
                impact=25,
            )
        elif ratio is not None and ratio >= NEAR and cur is not None and mx is not None:
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-conntrack-near",
                severity=Severity.WARNING,
                confidence=Confidence.MEDIUM,
                title="The conntrack table is nearly full",
                explanation=(
                    f"{host.name} tracks {cur.value} connections of at most {mx.value} ({ratio:.0%}); a little more "
                    f"load and new connections are dropped."
                ),
                evidence=[evidence(host, cur), evidence(host, mx)],
                remediation=fix,
                impact=15,
            )


rule = ConntrackFull()
