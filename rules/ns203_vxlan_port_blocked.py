"""NS203: the overlay's UDP port is not allowed between the nodes by a security group."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netsnap.engine.cluster import OverlayFacts, Peer
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence_at
from netsnap.model import Host, Snapshot
from netsnap.model.evidence import Evidence
from netsnap.secgroups.evaluate import evaluate, required_rule
from netsnap.secgroups.model import Direction, SecurityGroupSet


def _host_of_ip(snapshot: Snapshot) -> Callable[[str], str | None]:
    def lookup(ip: str) -> str | None:
        h = snapshot.host(ip)
        return h.name if h else None

    return lookup


def _counter_evidence(host: Host, facts: OverlayFacts) -> tuple[list[Evidence], bool]:
    """(evidence, silent): silent when the VXLAN device sent packets but received none."""
    dev = facts.device
    if dev is None or dev.counters is None:
        return [], False
    c = dev.counters
    silent = c.tx_packets > 0 and c.rx_packets == 0
    text = f"{dev.name}: RX packets {c.rx_packets}, TX packets {c.tx_packets}"
    return [evidence_at(host, c.src, text)], silent


def _port_hint(sets: list[SecurityGroupSet], port: int) -> str:
    others = sorted(
        {
            str(p)
            for s in sets
            for r in s.rules
            if r.protocol == "udp" and r.ports
            for p in r.ports
            if not p.contains(port)
        }
    )
    return f" The group opens UDP {', '.join(others)}, not {port}." if others else ""


class VxlanPortBlocked(Rule):
    meta = RuleMeta(
        id="NS203",
        name="vxlan-port-blocked",
        title="The overlay's UDP port is not allowed between the nodes by the security group",
        cause="vxlan-port-blocked",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.SECURITY_GROUP,
        requires=("ip_link",),
        scope="snapshot",
        what=(
            "For every node and every peer VTEP, checks that the security groups attached to the node (exports "
            "given with `--security-group HOST=FILE`) allow the overlay's UDP port — the real `dstport` of the VXLAN "
            "device (8472 by default, not RFC 7348's 4789; 8285 for the udp backend) — ingress from the peer and "
            "egress to it. Without an export it reports the check as unverified and prints the exact rule to look "
            "for. The VXLAN device's counters are quoted: TX growing while RX stays at zero is the signature of "
            "packets leaving and never arriving."
        ),
        why=(
            "Cloud security groups sit outside the host: everything on the node looks right, yet the encapsulated "
            "packets are dropped between the nodes, so all cross-node pod traffic fails while node-to-node ping "
            "works."
        ),
        example=(
            "```\nsg-master.json: no rule allows it; needs ingress udp 8472 from 192.168.0.16\n"
            "flannel.1: RX packets 0, TX packets 1873\n```"
        ),
        fix=(
            "Allow UDP <dstport> between the nodes in both directions, e.g. "
            "`openstack security group rule create --ingress --protocol udp --dst-port 8472 "
            "--remote-ip 192.168.0.0/24 <group>` and the same with `--egress`."
        ),
        references=(
            "flannel.md C-5 (security group missing the backend's port)",
            "incidents.md incident A, cause 3",
            "security-groups.md (formats and evaluation)",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        sgs = ctx.security_groups
        lookup = _host_of_ip(ctx.snapshot)
        for host in ctx.hosts:
            facts = ctx.cluster.of(host)
            if facts.port is None or facts.vtep is None or facts.backend not in ("vxlan", "udp"):
                continue
            port = facts.port
            peers = [p for p in ctx.cluster.peers(host) if p.vtep is not None]
            if not peers:
                continue
            counters, silent = _counter_evidence(host, facts)
            port_ev = [facts.evidence["port"]] if "port" in facts.evidence else []
            sets = sgs.for_host(host.name) if sgs is not None else None
            if not sets:
                yield self._unverified(ctx, host, peers, port, port_ev + counters, silent)
                continue
            blocked: list[tuple[Direction, Peer, str]] = []
            unknown: list[tuple[Direction, Peer, str]] = []
            directions: list[Direction] = ["ingress"]
            if any(s.has_direction("egress") for s in sets):
                directions.append("egress")
            for direction in directions:
                for p in peers:
                    d = evaluate(sets, direction, "udp", port, str(p.vtep), groups=sgs, host_of_ip=lookup)
                    if d.allowed is False:
                        blocked.append((direction, p, d.reason))
                    elif d.allowed is None:
                        unknown.append((direction, p, d.reason))
            files = sorted({s.file for s in sets})
            if blocked:
                needs = [required_rule(dn, "udp", port, str(p.vtep)) for dn, p, _ in blocked]
                ev = [Evidence(host=host.name, file=files[0], line=0, text=reason) for _, _, reason in blocked]
                ev.extend(port_ev + counters)
                peer_objs = list({id(p): p for _, p, _ in blocked}.values())
                yield self.finding(
                    hosts=[host.name, *[p.name for p in peer_objs if p.host is not None]],
                    key=f"{host.name}-sg-{port}",
                    explanation=(
                        f"The security group of {host.name} ({', '.join(files)}) does not allow the overlay's UDP "
                        f"{port}: {'; '.join(needs)} {'is' if len(needs) == 1 else 'are'} missing, so VXLAN packets "
                        f"between {host.name} and its peers "
                        f"are dropped outside the hosts." + _port_hint(sets, port)
                        + (" The device's counters agree: it sends but receives nothing." if silent else "")
                    ),
                    evidence=ev,
                    remediation=[
                        *[
                            f"openstack security group rule create --{dn} --protocol udp --dst-port {port} "
                            f"--remote-ip {p.vtep}/32 <group of {host.name}>"
                            for dn, p, _ in blocked
                        ],
                        f"# or allow udp {port} from/to the whole node network in both directions",
                    ],
                    path=ctx.cluster.path(host, peer_objs),
                    impact=80,
                )
            elif unknown:
                dn, p, reason = unknown[0]
                yield self.finding(
                    hosts=[host.name],
                    key=f"{host.name}-sg-{port}-unknown",
                    severity=Severity.WARNING,
                    confidence=Confidence.LOW,
                    title="The overlay's UDP port could not be verified against the security group",
                    explanation=f"Whether {host.name}'s security group allows UDP {port} is undecidable: {reason}.",
                    evidence=[Evidence(host=host.name, file=files[0], text=reason), *port_ev, *counters],
                    remediation=[f"# verify that this rule exists: {required_rule(dn, 'udp', port, str(p.vtep))}"],
                    path=ctx.cluster.path(host, [p]),
                    impact=30,
                )

    def _unverified(
        self, ctx: RuleContext, host: Host, peers: list[Peer], port: int, ev: list[Evidence], silent: bool
    ) -> Finding:
        needs = [required_rule("ingress", "udp", port, str(p.vtep)) for p in peers[:4]]
        needs += [required_rule("egress", "udp", port, str(p.vtep)) for p in peers[:4]]
        return self.finding(
            hosts=[host.name],
            key=f"{host.name}-sg-{port}-unverified",
            severity=Severity.WARNING if silent else Severity.INFO,
            confidence=Confidence.MEDIUM if silent else Confidence.LOW,
            title=f"Unverified: security group must allow UDP {port} between the nodes",
            explanation=(
                f"No security-group export was given for {host.name}, so netsnap cannot check that UDP {port} (the "
                f"VXLAN device's dstport) is allowed between the nodes; check these rules in the cloud console."
                + (
                    " The VXLAN device has sent packets but received none, which is what a blocked port looks like."
                    if silent
                    else ""
                )
            ),
            evidence=ev,
            remediation=[f"# must exist: {n}" for n in needs]
            + [f"# re-run with: --security-group {host.name}=<export of its security group>.json"],
            path=ctx.cluster.path(host, peers),
            impact=45 if silent else 10,
        )


rule = VxlanPortBlocked()
