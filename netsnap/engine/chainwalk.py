"""An ordered walk of one iptables chain for one packet, the way the kernel evaluates it: rules in order,
jumps into user chains, RETURN, goto, the first terminal verdict wins, then the built-in chain's policy.

Matches the model does not interpret (ipsets, marks, physdev, unknown modules) are "unknown": the walk
treats them as not matching, records them, and the verdict is marked `certain=False`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from netsnap.model import Chain, Host, IptRule, Ruleset

TERMINAL = {"ACCEPT", "DROP", "REJECT"}
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Packet:
    """The flow the walk decides: NEW state unless `state` says otherwise."""

    src: IPv4Address
    dst: IPv4Address
    proto: str = "udp"
    dport: int | None = None
    in_iface: str | None = None
    out_iface: str | None = None
    state: str = "NEW"


@dataclass
class WalkResult:
    """`action` is ACCEPT, DROP or REJECT; `rule` is the deciding rule (None when the policy decided);
    `trail` lists the rules that matched on the way (jumps included); `unknown` the undecidable matches."""

    action: str
    chain: str
    rule: IptRule | None = None
    policy_chain: Chain | None = None
    trail: list[IptRule] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def certain(self) -> bool:
        return not self.unknown

    @property
    def denied(self) -> bool:
        return self.action in ("DROP", "REJECT")


def _iface_match(pattern: str, iface: str | None) -> bool | None:
    if iface is None:
        return None
    if pattern.endswith("+"):
        return iface.startswith(pattern[:-1])
    return iface == pattern


def _ports(values: list[str]) -> list[tuple[int, int]]:
    out = []
    for v in values:
        for part in v.split(","):
            lo, _, hi = part.partition(":")
            try:
                out.append((int(lo or 0), int(hi or 65535) if _ else int(lo)))
            except ValueError:
                continue
    return out


def _module_match(rule: IptRule, pkt: Packet, unknown: list[str]) -> bool:
    for m in rule.matches:
        name = m.module
        if name == "comment":
            continue
        if name in ("udp", "tcp", "multiport"):
            for opt in m.options:
                if opt.name in ("dport", "dports", "destination-port", "destination-ports", "port", "ports"):
                    if pkt.dport is None:
                        return False
                    hit = any(lo <= pkt.dport <= hi for lo, hi in _ports(opt.values))
                    if hit == opt.negated:
                        return False
                elif opt.name in ("sport", "sports", "source-port", "source-ports"):
                    unknown.append(f"{rule.chain} rule {rule.position}: source port match")
                    return False
            continue
        if name in ("state", "conntrack"):
            for opt in m.options:
                if opt.name in ("state", "ctstate"):
                    states = {s for v in opt.values for s in v.split(",")}
                    if (pkt.state in states) == opt.negated:
                        return False
                else:
                    unknown.append(f"{rule.chain} rule {rule.position}: conntrack {opt.name}")
                    return False
            continue
        if name in ("icmp",) and pkt.proto != "icmp":
            return False
        if name == "addrtype":
            unknown.append(f"{rule.chain} rule {rule.position}: -m addrtype")
            return False
        unknown.append(f"{rule.chain} rule {rule.position}: -m {name}" + (f" ({m.text})" if m.text else ""))
        return False
    return True


def rule_matches(rule: IptRule, pkt: Packet, unknown: list[str]) -> bool:
    """True when every match of `rule` holds for `pkt` (unknown matches count as no match and are recorded)."""
    if rule.source is not None and (pkt.src in rule.source.net) == rule.source.negated:
        return False
    if rule.destination is not None and (pkt.dst in rule.destination.net) == rule.destination.negated:
        return False
    if rule.protocol is not None:
        proto = rule.protocol.value.lower()
        if proto not in ("all", "0") and (proto == pkt.proto) == rule.protocol.negated:
            return False
    for want, iface in ((rule.in_iface, pkt.in_iface), (rule.out_iface, pkt.out_iface)):
        if want is None:
            continue
        hit = _iface_match(want.value, iface)
        if hit is None:
            unknown.append(f"{rule.chain} rule {rule.position}: interface {want.value}")
            return False
        if hit == want.negated:
            return False
    if rule.fragment:
        return False
    return _module_match(rule, pkt, unknown)


def walk(ruleset: Ruleset, chain: str, pkt: Packet, table: str = "filter") -> WalkResult | None:
    """Evaluate `pkt` through `table`/`chain`. None when the chain is not in the ruleset."""
    start = ruleset.chain(table, chain)
    if start is None:
        return None
    trail: list[IptRule] = []
    unknown: list[str] = []
    verdict = _walk_chain(ruleset, table, start, pkt, trail, unknown, 0)
    if verdict is not None:
        return WalkResult(action=verdict[0], chain=chain, rule=verdict[1], trail=trail, unknown=unknown)
    policy = (start.policy or "ACCEPT").upper()
    return WalkResult(action=policy, chain=chain, policy_chain=start, trail=trail, unknown=unknown)


def _walk_chain(
    ruleset: Ruleset,
    table: str,
    chain: Chain,
    pkt: Packet,
    trail: list[IptRule],
    unknown: list[str],
    depth: int,
) -> tuple[str, IptRule] | None:
    """Returns (action, rule) for a terminal verdict, None for fall-through/RETURN."""
    if depth > _MAX_DEPTH:
        unknown.append(f"jump depth over {_MAX_DEPTH} at chain {chain.name}")
        return None
    for rule in chain.rules:
        if rule.target is None or not rule_matches(rule, pkt, unknown):
            continue
        target = rule.target.name.upper()
        trail.append(rule)
        if target in TERMINAL:
            return target, rule
        if target == "RETURN":
            return None
        sub = ruleset.chain(table, rule.target.name)
        if sub is None:
            continue  # LOG, MARK, CT and other non-terminating targets
        res = _walk_chain(ruleset, table, sub, pkt, trail, unknown, depth + 1)
        if res is not None:
            return res
        if rule.target.goto:
            return None
    return None


def ipv4_rulesets(host: Host) -> list[Ruleset]:
    """Every distinct IPv4 ruleset the host enforces, the primary view first. With both iptables-legacy and
    iptables-nft tables loaded, the kernel runs both, so a DROP in either view drops the packet."""
    primary = host.filter_ruleset
    ordered = ([primary] if primary else []) + [rs for rs in host.iptables.values() if rs is not primary]
    out: list[Ruleset] = []
    seen: set[tuple[str, ...]] = set()
    for rs in ordered:
        if rs.family != "ipv4":
            continue
        filt = rs.tables.get("filter")
        signature = tuple(
            f"{c.name}:{c.policy}:" + "|".join(r.raw.split("]", 1)[-1].strip() for r in c.rules)
            for c in (filt.chains.values() if filt else [])
        )
        if signature in seen:
            continue
        seen.add(signature)
        out.append(rs)
    return out
