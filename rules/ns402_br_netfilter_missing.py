"""NS402: br_netfilter / bridge-nf-call-iptables missing where pods sit on a bridge."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at
from netsnap.model.evidence import Evidence

KEY = "net.bridge.bridge-nf-call-iptables"


class BrNetfilterMissing(Rule):
    meta = RuleMeta(
        id="NS402",
        name="br-netfilter-missing",
        title="Bridged pod traffic bypasses iptables (br_netfilter missing)",
        cause="br-netfilter-missing",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.KERNEL,
        requires=("sysctls",),
        what=(
            "When pods sit on a Linux bridge (cni0/docker0 holding this node's lease), checks that the br_netfilter "
            f"module is loaded and `{KEY} = 1` (a missing key means the module is not loaded; `lsmod` is quoted "
            "when collected)."
        ),
        why=(
            "Without br_netfilter, traffic between two pods on the same bridge skips iptables, so kube-proxy's "
            "Service DNAT is not undone on replies: pod → ClusterIP fails when the endpoint is on the same node "
            "(DNS fails when CoreDNS is co-located). flannel ≥ 0.26 refuses to start instead."
        ),
        example=f"```\nkernel/sysctl: (no {KEY})\nkernel/lsmod: (no br_netfilter)\n```",
        fix=(
            "`modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1`, persisted with "
            "`echo br_netfilter > /etc/modules-load.d/br_netfilter.conf` and "
            "`echo 'net.bridge.bridge-nf-call-iptables = 1' > /etc/sysctl.d/90-kubernetes.conf`."
        ),
        references=(
            "https://github.com/flannel-io/flannel/pull/2082",
            "https://github.com/flannel-io/flannel/issues/2068",
            "https://docs.kernel.org/networking/bridge.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        bridge = f.bridge
        if bridge is None or (bridge.kind not in (None, "bridge") and bridge.name not in ("cni0", "docker0")):
            return
        ev: list[Evidence] = [evidence_at(host, bridge.src, bridge.raw or f"{bridge.name}: pod bridge")]
        s = host.sysctls.get(KEY)
        confidence = Confidence.HIGH
        if s is not None:
            if s.value.strip() != "0":
                return
            ev.append(evidence(host, s))
            state = f"{KEY} = 0"
        else:
            if host.has("lsmod"):
                mod = host.modules.get("br_netfilter")
                if mod is not None:
                    return  # loaded; the sysctl was just not captured
                ev.append(evidence_at(host, None, "br_netfilter is not in lsmod", "lsmod"))
            else:
                confidence = Confidence.MEDIUM
            ev.append(evidence_at(host, None, f"{KEY} is absent: the module is not loaded", "sysctl"))
            state = "br_netfilter is not loaded"
        for event in host.flannel.events:
            if "br_netfilter" in event.message:
                ev.append(evidence(host, event))
                break
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-br-netfilter",
            confidence=confidence,
            explanation=(
                f"Pods on {host.name} sit on the bridge {bridge.name}, but {state}: bridged pod-to-pod traffic skips "
                f"iptables, so Services whose endpoint is on the same node (and co-located DNS) fail."
            ),
            evidence=ev,
            remediation=[
                "modprobe br_netfilter",
                "sysctl -w net.bridge.bridge-nf-call-iptables=1",
                "echo br_netfilter > /etc/modules-load.d/br_netfilter.conf",
                "echo 'net.bridge.bridge-nf-call-iptables = 1' > /etc/sysctl.d/90-kubernetes.conf",
            ],
            impact=30,
        )


rule = BrNetfilterMissing()
