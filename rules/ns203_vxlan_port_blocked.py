"""NS203: the overlay's UDP port is not allowed between the nodes by a security group."""

from __future__ import annotations

from collections.abc import Iterable

from netsnap.combine.overlay import OverlayFacts
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence_at
from netsnap.model import Host
from netsnap.model.evidence import Evidence
from netsnap.secgroups.model import SecurityGroupSet
from netsnap.trace.result import PacketInfo


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
        main=True,
        requires=("link_details",),
        applies="overlay",
        scope="snapshot",
        what=(
            "Reads the reachability graph: every overlay packet the cluster needs crosses each node's cloud port, "
            "where the security groups attached to the node (exports given with `--security-group HOST=FILE`) must "
            "allow the overlay's UDP port — the real `dstport` of the VXLAN device (8472 by default, not RFC 7348's "
            "4789; 8285 for the udp backend) — ingress from the peer and egress to it. It fires where a group drops "
            "it. Without an export, on a host with cloud evidence (a cloud MAC prefix, a metadata route, a cloud DMI "
            "vendor), it reports the check as unverified and prints the exact rule to look for; a host with no cloud "
            "evidence has no security group. The VXLAN device's counters are quoted: TX growing while RX stays at "
            "zero is the signature of packets leaving and never arriving."
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
            "https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan",
            "https://docs.openstack.org/python-openstackclient/latest/cli/command-objects/security-group-rule.html",
            "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        sgs = ctx.security_groups
        for host in ctx.hosts:
            facts = ctx.graph.facts(host)
            if facts.port is None or facts.backend not in ("vxlan", "udp"):
                continue
            port = facts.port
            counters, silent = _counter_evidence(host, facts)
            port_ev = [facts.evidence["port"]] if "port" in facts.evidence else []
            mine = f"{host.name}|sg|"
            blocked = [(r, s) for r, s in ctx.graph.blocked(mine) if s.check.endswith(f"|udp|{port}")]
            doubts = [(r, d) for r, d in ctx.graph.doubtful(mine) if d.check.endswith(f"|udp|{port}")]
            sets = sgs.for_host(host.name) if sgs is not None else None
            if blocked:
                checks = list(dict.fromkeys(s.check for _, s in blocked))
                needs = list(dict.fromkeys(_need(s.detail) for _, s in blocked))
                files = sorted({s.file for s in sets or []}) or ["the security-group export"]
                ev = [Evidence(host=host.name, file=files[0], text=d)
                      for d in dict.fromkeys(s.detail for _, s in blocked)]
                ev.extend(list(dict.fromkeys(e for _, s in blocked for e in s.consulted))[:4])
                ev.extend(port_ev + counters)
                remotes = list(dict.fromkeys((s.check.split("|")[2], s.packet) for _, s in blocked))
                yield self.finding(
                    hosts=[host.name, *dict.fromkeys(r.flow.dst_host if r.flow.src_host == host.name
                                                     else r.flow.src_host for r, _ in blocked)],
                    key=f"{host.name}-sg-{port}",
                    explanation=(
                        f"The security group of {host.name} ({', '.join(files)}) does not allow the overlay's UDP "
                        f"{port}: {'; '.join(needs)} {'is' if len(needs) == 1 else 'are'} missing, so VXLAN packets "
                        f"between {host.name} and its peers are dropped outside the hosts."
                        + (_port_hint(sets, port) if sets else "")
                        + (" The device's counters agree: it sends but receives nothing." if silent else "")
                    ),
                    evidence=ev,
                    remediation=[
                        *dict.fromkeys(
                            f"openstack security group rule create --{direction} --protocol udp --dst-port {port} "
                            f"--remote-ip {_remote(direction, pkt)}/32 <group of {host.name}>"
                            for direction, pkt in remotes),
                        f"# or allow udp {port} from/to the whole node network in both directions",
                    ],
                    path=ctx.graph.path(blocked[0][0]),
                    impact=80,
                    checks=checks,
                )
            elif doubts and not sets:
                yield self._unverified(host, port, port_ev + counters, silent,
                                       list(dict.fromkeys(d.reason.split("has: ", 1)[-1] for _, d in doubts)),
                                       ctx.graph.path(doubts[0][0]), [d.check for _, d in doubts])
            elif doubts:
                r, d = doubts[0]
                files = sorted({s.file for s in sets or []})
                yield self.finding(
                    hosts=[host.name],
                    key=f"{host.name}-sg-{port}-unknown",
                    severity=Severity.WARNING,
                    confidence=Confidence.LOW,
                    title="The overlay's UDP port could not be verified against the security group",
                    explanation=f"Whether {host.name}'s security group allows UDP {port} is undecidable: {d.reason}.",
                    evidence=[Evidence(host=host.name, file=files[0] if files else "", text=d.reason), *port_ev,
                              *counters],
                    remediation=[f"# verify the group of {host.name} allows udp {port} between the nodes"],
                    path=ctx.graph.path(r),
                    impact=30,
                    checks=[d.check],
                )

    def _unverified(
        self, host: Host, port: int, ev: list[Evidence], silent: bool, needs: list[str], path: str,
        checks: list[str],
    ) -> Finding:
        return self.finding(
            hosts=[host.name],
            key=f"{host.name}-sg-{port}-unverified",
            severity=Severity.WARNING if silent else Severity.INFO,
            confidence=Confidence.MEDIUM if silent else Confidence.LOW,
            title=f"Unverified: security group must allow UDP {port} between the nodes",
            explanation=(
                f"No security-group export was given for {host.name}, whose interface is a cloud port, so netsnap "
                f"cannot check that UDP {port} (the VXLAN device's dstport) is allowed between the nodes; check these "
                f"rules in the cloud console."
                + (
                    " The VXLAN device has sent packets but received none, which is what a blocked port looks like."
                    if silent
                    else ""
                )
            ),
            evidence=ev,
            remediation=[f"# must exist: {n}" for n in needs[:8]]
            + [f"# re-run with: --security-group {host.name}=<export of its security group>.json"],
            path=path,
            impact=45 if silent else 10,
            checks=checks,
        )


def _need(detail: str) -> str:
    """`needs ingress udp 8472 from 192.168.0.16` out of a security-group deny step's text."""
    return detail.split("needs ", 1)[1] if "needs " in detail else detail


def _remote(direction: str, pkt: PacketInfo | None) -> str:
    if pkt is None:
        return "<peer>"
    return (pkt.src if direction == "ingress" else pkt.dst) or "<peer>"


rule = VxlanPortBlocked()
