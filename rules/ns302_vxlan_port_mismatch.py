"""NS302: nodes disagree on the VXLAN port or VNI."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.model.evidence import Evidence, quote
from netsnap.model.host import Host


class VxlanPortMismatch(Rule):
    meta = RuleMeta(
        id="NS302",
        name="vxlan-port-mismatch",
        title="Nodes disagree on the VXLAN port or VNI",
        cause="vxlan-port-mismatch",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.OVERLAY,
        main=True,
        requires=("link_details",),
        applies="overlay",
        scope="snapshot",
        min_hosts=2,
        what=(
            "Compares the flannel VXLAN device of every node: its `dstport` and its `vxlan id` (VNI) must be the "
            "same everywhere."
        ),
        why=(
            "A node sends to the peer's port from its own device's `dstport`; a receiver only decapsulates packets "
            "for its own port and VNI. With different values (a `udp_port=` module option, a `Backend.Port` or `VNI` "
            "set on some nodes only, Windows nodes needing 4789/4096) the packets are silently discarded."
        ),
        example="```\nmaster: flannel.1 vxlan id 1 ... dstport 8472\nnode1: flannel.1 vxlan id 1 ... dstport 4789\n```",
        fix=(
            "Set `Backend.Port` and `Backend.VNI` explicitly and identically in net-conf.json (or the etcd config), "
            "remove stray `udp_port=` options of the vxlan module, then restart flannel on every node (delete the old "
            "device: `ip link delete flannel.1`)."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#firewalls",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        devs = []
        for host in ctx.hosts:
            f = ctx.cluster.of(host)
            if f.device is not None and f.device.vxlan is not None:
                devs.append((host, f))
        if len(devs) < 2:
            return
        for attr, word in (("port", "port"), ("vni", "VNI")):
            values = {getattr(f, attr) for _, f in devs if getattr(f, attr) is not None}
            if len(values) < 2:
                continue
            counts: dict[object, int] = {}
            for _, f in devs:
                counts[getattr(f, attr)] = counts.get(getattr(f, attr), 0) + 1
            majority = max(counts, key=lambda v: (counts[v], str(v)))
            odd = [(h, f) for h, f in devs if getattr(f, attr) != majority]
            ev: list[Evidence] = []
            for _, f in devs:
                e = f.evidence.get("port") or f.evidence.get("vtep")
                if e is not None:
                    ev.append(e)
            origins = [(h, o) for h, f in odd if attr == "port" and (o := _port_origin(h, f.port)) is not None]
            for h, _ in origins:
                option = h.vxlan_module.port_option
                if option is not None:
                    ev.append(quote(h.name, option))
            summary = ", ".join(f"{h.name} {getattr(f, attr)}" for h, f in devs)
            yield self.finding(
                hosts=[h.name for h, _ in devs],
                key=f"{word.lower()}-{'-'.join(str(v) for v in sorted(values, key=str))}",
                explanation=(
                    f"The nodes' VXLAN devices use different {word}s ({summary}); packets from a node reach its peer "
                    f"with a {word} the peer does not listen on and are discarded, so pod traffic between "
                    f"{', '.join(h.name for h, _ in odd)} and the others fails."
                ),
                evidence=ev,
                remediation=[
                    f'# net-conf.json / etcd config: "Backend": {{"Type": "vxlan", "VNI": '
                    f"{majority if attr == 'vni' else 1}, \"Port\": {majority if attr == 'port' else 8472}}}",
                    *[f"# on {h.name}: {origin}" for h, origin in origins],
                    *[f"# on {h.name}: ip link delete {f.device.name if f.device else 'flannel.1'} && "
                      "systemctl restart flanneld" for h, f in odd],
                ],
                path=f"{' / '.join(h.name for h, _ in odd)} ↔ other nodes (overlay {word})",
                impact=85,
                # what the mismatch breaks on the graph: packets no VXLAN device of the receiver takes
                checks=[s.check for _, s in ctx.graph.blocked("|decap|")],
            )


def _port_origin(host: Host, port: int | None) -> str | None:
    """Where `host`'s odd VXLAN port comes from, when its bundle says: a modprobe option of the vxlan module
    (the port of a device created without `dstport`, as flannel does when `Backend.Port` is unset)."""
    vm = host.vxlan_module
    option = vm.port_option
    if port is None or option is None or option.value != str(port):
        return None
    return (f"dstport {port} is the vxlan module's udp_port, set by {vm.port_origin()}: remove that option "
            "(it applies when the module is loaded: reboot, or unload and reload vxlan)")


rule = VxlanPortMismatch()
