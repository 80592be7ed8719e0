"""NS404: the VXLAN TX checksum-offload bug signature."""

from __future__ import annotations

import re
from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence

FEATURE = "tx-checksum-ip-generic"
_TO_PORT = re.compile(r"to \S+?:(\d+)")


class VxlanChecksumOffload(Rule):
    meta = RuleMeta(
        id="NS404",
        name="vxlan-checksum-offload",
        title="VXLAN checksum-offload bug: bad UDP checksums on the overlay port",
        cause="vxlan-checksum-offload",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.KERNEL,
        requires=("kernel_log", "offloads"),
        applies="overlay",
        what=(
            "Looks for the two halves of the signature together: `UDP: bad checksum ... to <ip>:<dstport>` in dmesg "
            f"on the overlay's port, and `{FEATURE}: on` for the flannel device in `ethtool -k`."
        ),
        why=(
            "With TX checksum offload on the VXLAN device, some kernels (RHEL 7's 3.10, VMware/virtio guests, NAT "
            "paths) send encapsulated packets with wrong checksums; the receiver drops them. ClusterIP/NodePort "
            "traffic to pods on other nodes fails or takes ~63 s (SYN retransmits)."
        ),
        example=(
            "```\nUDP: bad checksum. From 192.168.0.16:37661 to 192.168.0.15:8472 ulen 106\n"
            f"flannel.1: {FEATURE}: on\n```"
        ),
        fix=(
            f"`ethtool -K flannel.1 {FEATURE} off`, persisted with a udev rule or a systemd unit that runs after "
            "flanneld (flannel never disables it itself)."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#nat",
            "https://github.com/flannel-io/flannel/issues/1279",
            "https://man7.org/linux/man-pages/man8/ethtool.8.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        if f.device is None or f.port is None:
            return
        port = f.port
        bad = []
        for ev in host.kernel_events:
            if ev.kind != "bad-checksum":
                continue
            p = ev.fields.get("dport") or ev.fields.get("port")
            if p is None:
                m = _TO_PORT.search(ev.message)
                p = m.group(1) if m else None
            if p is not None and p.isdigit() and int(p) == port:
                bad.append(ev)
        feature = next((e for e in host.ethtool if e.dev == f.device.name and e.name == FEATURE and e.enabled), None)
        if not bad or feature is None:
            return
        dev = f.device.name
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-{dev}",
            explanation=(
                f"{host.name}'s kernel logged {len(bad)} bad UDP checksum{'s' if len(bad) != 1 else ''} on the overlay "
                f"port {port}, and {dev} has {FEATURE} on: the known VXLAN offload bug corrupts encapsulated packets, "
                f"so Service traffic to pods on other nodes fails or stalls."
            ),
            evidence=[evidence(host, bad[0]), *([evidence(host, bad[-1])] if len(bad) > 1 else []),
                      evidence(host, feature)],
            remediation=[
                f"ethtool -K {dev} {FEATURE} off",
                f"# persist: /etc/udev/rules.d/90-flannel.rules: ACTION==\"add\", SUBSYSTEM==\"net\", "
                f"KERNEL==\"flannel.*\", RUN+=\"/sbin/ethtool -K $name {FEATURE} off\"",
            ],
            path=ctx.cluster.path(host),
            impact=45,
        )


rule = VxlanChecksumOffload()
