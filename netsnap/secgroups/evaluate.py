"""Evaluate a flow against the security groups attached to one host (three-valued)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address

from netsnap.secgroups.model import Direction, SecurityGroups, SecurityGroupSet, SGRule


@dataclass(frozen=True)
class SGDecision:
    """`allowed` is True, False or None (undecidable); `rule` is the deciding rule if any."""

    allowed: bool | None
    reason: str
    rule: SGRule | None = None
    consulted: tuple[SGRule, ...] = ()


def required_rule(direction: Direction, proto: str, port: int | None, remote_ip: str) -> str:
    """The rule that must exist for the flow to pass, e.g. `ingress udp 8472 from 192.168.0.10`."""
    word = "from" if direction == "ingress" else "to"
    ports = f" {port}" if port is not None and proto in ("tcp", "udp") else ""
    return f"{direction} {proto}{ports} {word} {remote_ip}"


def _proto_ok(rule: SGRule, proto: str) -> bool:
    return rule.protocol is None or rule.protocol == proto


def _ports_ok(rule: SGRule, proto: str, port: int | None, icmp_type: int | None) -> bool:
    if proto == "icmp":
        return rule.icmp_type is None or icmp_type is None or rule.icmp_type == icmp_type
    if rule.ports is None or proto not in ("tcp", "udp", "sctp"):
        return True
    if port is None:
        return False
    return any(r.contains(port) for r in rule.ports)


def _remote_ok(
    rule: SGRule, remote_ip: str, groups: SecurityGroups | None, host_of_ip: Callable[[str], str | None]
) -> tuple[bool | None, str]:
    if rule.remote_other:
        return None, f"{rule.remote_other} is not in the export"
    if rule.remote_cidr is not None:
        try:
            return ip_address(remote_ip) in rule.remote_cidr, ""
        except ValueError:
            return False, ""
    if rule.remote_group:
        host = host_of_ip(remote_ip)
        if host is None or groups is None or groups.for_host(host) is None:
            return None, f"membership of group {rule.remote_group} for {remote_ip} is unknown"
        return host in groups.members(rule.remote_group), ""
    return True, ""


def evaluate(
    sets: list[SecurityGroupSet],
    direction: Direction,
    proto: str,
    port: int | None,
    remote_ip: str,
    *,
    icmp_type: int | None = 8,
    groups: SecurityGroups | None = None,
    host_of_ip: Callable[[str], str | None] = lambda _ip: None,
) -> SGDecision:
    """Decide one new flow crossing `direction` of a host whose groups are `sets`.

    Allow-only providers (Neutron, AWS): allowed if any rule of any group matches. Providers with
    priorities (Huawei v3, Alibaba, native): rules sorted by (priority, deny first), first match wins.
    Nothing matching is a deny. A rule whose match is undecidable makes the answer None when it
    could change the outcome.
    """
    need = required_rule(direction, proto, port, remote_ip)
    if not any(direction in s.directions for s in sets):
        files = ", ".join(sorted({s.file for s in sets}))
        return SGDecision(None, f"the export ({files}) does not describe {direction} rules; needs {need}")
    ethertype = 6 if ":" in remote_ip else 4
    rules = [
        r for s in sets for r in s.rules
        if r.direction == direction and r.ethertype == ethertype and _proto_ok(r, proto)
        and _ports_ok(r, proto, port, icmp_type)
    ]
    ordered = any(s.ordered for s in sets)
    if ordered:
        indexed = sorted(enumerate(rules), key=lambda ir: (ir[1].priority or 100, ir[1].action != "deny", ir[0]))
        rules = [r for _, r in indexed]
    undecided: list[tuple[SGRule, str]] = []
    for rule in rules:
        ok, why = _remote_ok(rule, remote_ip, groups, host_of_ip)
        if ok is None:
            undecided.append((rule, why))
            if ordered:
                break
            continue
        if not ok:
            continue
        if rule.action == "allow":
            return SGDecision(True, f"allowed by {rule.describe()}", rule, (rule,))
        if not ordered:  # allow-only providers have no deny; keep the union semantics
            continue
        return SGDecision(False, f"denied by {rule.describe()}", rule, (rule,))
    if undecided:
        rule, why = undecided[0]
        return SGDecision(None, f"undecidable: {rule.describe()} ({why}); needs {need}", rule, (rule,))
    files = ", ".join(sorted({s.file for s in sets}))
    return SGDecision(False, f"no rule allows it ({files}); needs {need}")
