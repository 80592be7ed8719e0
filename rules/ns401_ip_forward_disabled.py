"""NS401: IPv4 forwarding is off on a node that must forward pod traffic."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, iface_sysctl
from netsnap.model.evidence import Evidence


class IpForwardDisabled(Rule):
    meta = RuleMeta(
        id="NS401",
        name="ip-forward-disabled",
        title="IPv4 forwarding is disabled on a node that forwards pod traffic",
        cause="ip-forward-disabled",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.KERNEL,
        requires=("sysctls",),
        what=(
            "On a node with flannel (or a pod bridge), checks `net.ipv4.ip_forward` and the `forwarding` setting of "
            "the flannel device and the pod bridge."
        ),
        why=(
            "Cross-node pod traffic is routed between flannel.1 and cni0/docker0. With forwarding off the host "
            "reaches its own pods, but nothing is forwarded between the overlay and the bridge. Docker turns it on "
            "at start; containerd-only nodes rely on sysctl files."
        ),
        example="```\nkernel/sysctl: net.ipv4.ip_forward = 0\n```",
        fix=(
            "`sysctl -w net.ipv4.ip_forward=1` and persist it: `echo 'net.ipv4.ip_forward = 1' > "
            "/etc/sysctl.d/90-kubernetes.conf`."
        ),
        references=(
            "https://docs.kernel.org/networking/ip-sysctl.html",
            "https://github.com/kubernetes/kubeadm/issues/580",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        if not f.has_flannel and not any(n in host.interfaces for n in ("cni0", "docker0")):
            return
        off: list[Evidence] = []
        settings = [host.sysctls.get("net.ipv4.ip_forward")]
        for iface in (f.device, f.bridge):
            if iface is not None:
                settings.append(iface_sysctl(host, iface.name, "forwarding"))
        for s in settings:
            if s is not None and s.value.strip() == "0":
                off.append(evidence(host, s))
        if not off:
            return
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-forwarding",
            checks=[s.check for _, s in ctx.graph.blocked(f"{host.name}|ip_forward")],
            explanation=(
                f"IPv4 forwarding is off on {host.name} ({', '.join(e.text for e in off)}): packets between the "
                f"overlay and the pod bridge are not forwarded, so pods on this node are unreachable from other nodes."
            ),
            evidence=off,
            remediation=[
                "sysctl -w net.ipv4.ip_forward=1",
                "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-kubernetes.conf",
            ],
            path=ctx.cluster.path(host),
            impact=68,
        )


rule = IpForwardDisabled()
