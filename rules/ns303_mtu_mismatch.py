"""NS303: the overlay device's MTU does not fit its underlay, or FLANNEL_MTU disagrees with the device."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.combine.overlay import OVERHEAD
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence, evidence_at


class MtuMismatch(Rule):
    meta = RuleMeta(
        id="NS303",
        name="mtu-mismatch",
        title="The overlay MTU does not fit the underlay",
        cause="mtu-mismatch",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.OVERLAY,
        requires=("link_details",),
        applies="overlay",
        what=(
            "Compares the flannel device's MTU with its underlay interface's MTU minus the encapsulation overhead "
            "(50 bytes for VXLAN, 28 for the udp backend): larger is an error. Also compares `FLANNEL_MTU` in "
            "subnet.env with the device's MTU (a warning when they differ)."
        ),
        why=(
            "Encapsulated packets larger than the underlay MTU are dropped (VXLAN sets DF on the outer packet in "
            "most setups): ping and small requests work, but TLS handshakes, large HTTP bodies and `kubectl logs` "
            "hang. A FLANNEL_MTU different from the device means pods are configured for a different size."
        ),
        example="```\nflannel.1: mtu 1500 ... vxlan id 1 local 192.168.0.15 dev eth1 dstport 8472\neth1: mtu 1500\n```",
        fix=(
            "Let flannel derive the MTU from the right interface (pin `--iface`), or set VXLAN `Backend.MTU` "
            "(flannel ≥ 0.21.3); fix the underlay MTU; then restart flanneld and the container runtime so the bridge "
            "and veths pick it up."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#data-plane",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan",
            "https://github.com/flannel-io/flannel/issues/841",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        f = ctx.cluster.of(host)
        dev = f.device
        if dev is None or dev.mtu is None:
            return
        overhead = OVERHEAD.get(f.backend, 50)
        under_name = (dev.vxlan.dev if dev.vxlan else None) or f.vtep_iface
        under = host.interfaces.get(under_name) if under_name else None
        if under is not None and under.mtu is not None and dev.mtu > under.mtu - overhead:
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-{dev.name}-underlay",
                explanation=(
                    f"{dev.name} on {host.name} has MTU {dev.mtu}, but its underlay {under.name} has MTU {under.mtu}; "
                    f"with {overhead} bytes of {f.backend} overhead the device must not exceed {under.mtu - overhead}, "
                    f"so full-size packets are dropped after encapsulation."
                ),
                evidence=[evidence(host, dev, dev.raw or f"{dev.name}: mtu {dev.mtu}"),
                          evidence(host, under, under.raw or f"{under.name}: mtu {under.mtu}")],
                remediation=[
                    f"ip link set dev {dev.name} mtu {under.mtu - overhead}   # immediate, until flannel restarts",
                    f'# net-conf.json: "Backend": {{"Type": "{f.backend}", "MTU": {under.mtu}}}  (flannel >= 0.21.3)',
                    "systemctl restart flanneld   # then restart the container runtime",
                ],
                path=ctx.cluster.path(host),
                impact=35,
            )
        se = host.flannel.subnet_env
        if se is not None and se.mtu is not None and se.mtu != dev.mtu:
            line = se.lines.get("FLANNEL_MTU")
            yield self.finding(
                hosts=[host.name],
                key=f"{host.name}-flannel-mtu",
                severity=Severity.WARNING,
                confidence=Confidence.MEDIUM,
                title="FLANNEL_MTU disagrees with the overlay device",
                explanation=(
                    f"subnet.env on {host.name} says FLANNEL_MTU={se.mtu} but {dev.name} has MTU {dev.mtu}; pods and "
                    f"the bridge are sized for a different MTU than the overlay carries (a stale subnet.env or a "
                    f"device changed by hand)."
                ),
                evidence=[
                    evidence_at(host, se.src._replace(line=line or se.src.line), f"FLANNEL_MTU={se.mtu}"),
                    evidence(host, dev, dev.raw or f"{dev.name}: mtu {dev.mtu}"),
                ],
                remediation=["systemctl restart flanneld   # rewrites subnet.env from the device",
                             "# then restart the container runtime so docker0/cni0 and the veths use the new MTU"],
                path=ctx.cluster.path(host),
                impact=30,
            )


rule = MtuMismatch()
