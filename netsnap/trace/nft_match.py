"""Three-valued matching of nftables expressions against a traced packet: True, False, or None
(undecidable, with the reason and the expression quoted).

What the packet carries decides: addresses, ports, protocol, interfaces, mark, conntrack state (NEW
for the request, ESTABLISHED for the reply, as the iptables matcher assumes), and what the run knows
(a DNAT on this host makes `ct status dnat` true). An IPv4 packet never matches `ip6 ...`,
`icmpv6 ...` or `meta nfproto ipv6` (nft adds those protocol dependencies to the rule). Names and
numbers come from the iptables matcher (`PROTO_NAMES`, `ICMP_TYPES`) where they are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from netsnap.model.nftables import NftExpr, NftSet
from netsnap.trace.matching import ICMP_TYPES, PROTO_NAMES
from netsnap.trace.packet import Packet
from netsnap.trace.run import Run

IPAddress = IPv4Address | IPv6Address
MatchResult = tuple[bool | None, str]

#: nft's ICMP type names beyond the iptables matcher's (nft(8) "ICMP HEADER EXPRESSION")
ICMP_NAMES: dict[str, int] = {
    **{k: v for k, v in ICMP_TYPES.items() if v >= 0},
    "source-quench": 4, "redirect": 5, "router-advertisement": 9, "router-solicitation": 10,
    "parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15,
    "info-reply": 16, "address-mask-request": 17, "address-mask-reply": 18,
}
#: the few service names nft may print instead of numbers (with `-S`, or in hand-written pastes)
SERVICES: dict[str, int] = {"ssh": 22, "http": 80, "https": 443, "domain": 53, "ntp": 123, "bgp": 179,
                            "kubernetes": 6443}
_PORT_KEYS = frozenset({f"{p} {d}" for p in ("tcp", "udp", "th", "sctp", "udplite", "dccp")
                        for d in ("sport", "dport")})
_L4_OF = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "udplite": "udplite", "dccp": "dccp"}
_IPV6_ONLY = ("ip6 ", "icmpv6 ", "ct original ip6 ", "ct reply ip6 ")
_TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr")


@dataclass
class MatchEnv:
    """What matching needs besides the packet: the hook (which interfaces exist), the host's local
    addresses, the table's named sets, and the run (NAT it recorded on this host)."""

    host: str
    hook: str
    local_ips: Mapping[IPAddress, str]
    sets: Mapping[str, NftSet]
    run: Run
    bridge_family: bool = False


def _unknown(expr: NftExpr, why: str) -> MatchResult:
    return None, f"{why}: `{expr.text}`"


def _device(pkt: Packet, hook: str, which: str) -> tuple[bool, str | None]:
    """(known, name) of the packet's in/out interface at `hook`; a device that does not exist at this
    hook (no out interface before routing, no in interface for local output) is known and None."""
    if which == "in":
        if hook in ("OUTPUT",) or (hook == "POSTROUTING" and pkt.iif is None):
            return True, None
        return (pkt.iif is not None), pkt.iif
    if hook in ("PREROUTING", "INPUT"):
        return True, None
    return (pkt.oif is not None), pkt.oif


def _name_match(pattern: str, name: str) -> bool:
    if pattern.endswith("*") and not pattern.endswith("\\*"):
        return name.startswith(pattern[:-1])
    return name == pattern.replace("\\*", "*")


def _addr_in(elem: str, ip: IPAddress) -> bool | None:
    try:
        if "/" in elem:
            return ip in ip_network(elem, strict=False)
        if "-" in elem:
            lo_s, _, hi_s = elem.partition("-")
            lo, hi = ip_address(lo_s), ip_address(hi_s)
            if lo.version != ip.version:
                return False
            return int(lo) <= int(ip) <= int(hi)
        return ip == ip_address(elem)
    except ValueError:
        return None


def _num(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return SERVICES.get(text)


def _num_in(elem: str, value: int) -> bool | None:
    lo_s, sep, hi_s = elem.partition("-")
    lo = _num(lo_s)
    hi = _num(hi_s) if sep else lo
    if lo is None or hi is None:
        return None
    return lo <= value <= hi


def _proto_eq(elem: str, proto: str) -> bool:
    return PROTO_NAMES.get(elem, elem) == proto


class _Key:
    """The packet's value for one selector key: `compare(elem)` -> True/False/None; `value` for numbers."""

    def __init__(self, kind: str, value: object) -> None:
        self.kind = kind
        self.value = value

    def compare(self, elem: str) -> bool | None:
        kind, value = self.kind, self.value
        if kind == "addr":
            assert isinstance(value, IPv4Address | IPv6Address)
            return _addr_in(elem, value)
        if kind == "num":
            assert isinstance(value, int)
            return _num_in(elem, value)
        if kind == "proto":
            return _proto_eq(elem, str(value))
        if kind == "icmp":
            assert isinstance(value, int)
            code = ICMP_NAMES.get(elem)
            return value == code if code is not None else _num_in(elem, value)
        if kind == "name":
            return value is not None and _name_match(elem, str(value))
        if kind == "word":
            return elem.lower() == str(value)
        if kind == "words":
            assert isinstance(value, frozenset)
            return elem.lower() in value
        return None  # pragma: no cover - every kind is handled above


def key_value(key: str, pkt: Packet, env: MatchEnv) -> _Key | bool | str:
    """The packet's value for `key`; False when the key cannot exist on this packet (the rule never
    matches), or a string saying why it is undecidable."""
    if key.startswith(_IPV6_ONLY) or key.startswith("@"):
        return False if key.startswith(_IPV6_ONLY) else "raw payload offsets are not simulated"
    if key in ("ip saddr", "ct original saddr", "ct original ip saddr"):
        if pkt.src is None:
            return "the source address is not chosen yet"
        return _Key("addr", pkt.src) if key == "ip saddr" or pkt.ctstate == "NEW" else "conntrack tuple not simulated"
    if key in ("ip daddr", "ct original daddr", "ct original ip daddr"):
        return _Key("addr", pkt.dst) if key == "ip daddr" or pkt.ctstate == "NEW" else "conntrack tuple not simulated"
    if key in _PORT_KEYS:
        l4, field = key.split()
        if l4 in _L4_OF and pkt.proto != _L4_OF[l4]:
            return False
        if l4 == "th" and pkt.proto not in ("tcp", "udp", "sctp", "udplite", "dccp"):
            return False
        port = pkt.dport if field == "dport" else pkt.sport
        return _Key("num", port) if port is not None else f"the packet's {field} is not known"
    if key in ("meta l4proto", "ip protocol"):
        return _Key("proto", pkt.proto)
    if key == "meta nfproto":
        return _Key("word", "ipv4")
    if key == "meta protocol":
        return _Key("words", frozenset({"ip", "0x0800", "ipv4"}))
    if key in ("meta iifname", "meta iif", "meta oifname", "meta oif"):
        if env.bridge_family:
            return "the bridge port of the packet is not known"
        known, name = _device(pkt, env.hook, "in" if key.startswith("meta ii") else "out")
        if not known:
            return "the packet's interface is not known here"
        if name is None:
            return False  # no such device at this hook: nft's meta expression breaks, the rule never matches
        return _Key("name", name)
    if key in ("meta ibrname", "meta obrname"):
        if not env.bridge_family:
            return False
        return _Key("name", pkt.iif if key == "meta ibrname" else pkt.oif)
    if key == "meta mark":
        return _Key("num", pkt.mark)
    if key == "ct state":
        return _Key("word", pkt.ctstate.lower())
    if key == "ct direction":
        return _Key("word", "original" if pkt.ctstate == "NEW" else "reply")
    if key == "ct status":
        return _Key("words", _ct_status(pkt, env))
    if key == "icmp type":
        if pkt.proto != "icmp":
            return False
        return _Key("icmp", pkt.icmp_type) if pkt.icmp_type is not None else "the ICMP type is not known"
    if key == "icmp code":
        if pkt.proto != "icmp":
            return False
        return _Key("num", 0) if pkt.icmp_type in (0, 8) else "the ICMP code is not known"
    if key == "tcp flags":
        if pkt.proto != "tcp":
            return False
        return _Key("words", frozenset({"syn"}) if pkt.ctstate == "NEW" else frozenset({"syn", "ack"}))
    if key in ("fib daddr type", "fib saddr type"):
        ip = pkt.dst if key == "fib daddr type" else pkt.src
        if ip is None:
            return "the source address is not chosen yet"
        return _Key("word", _addr_type(ip, env))
    if key == "meta pkttype":
        return _Key("word", {"local": "host", "unicast": "host"}.get(_addr_type(pkt.dst, env), _addr_type(pkt.dst,
                                                                                                       env)))
    return f"{key} is not simulated"


def _addr_type(ip: IPAddress, env: MatchEnv) -> str:
    if ip in env.local_ips:
        return "local"
    if ip.is_multicast:
        return "multicast"
    if str(ip) == "255.255.255.255":
        return "broadcast"
    return "unicast"


def _ct_status(pkt: Packet, env: MatchEnv) -> frozenset[str]:
    """What conntrack's status bits are for the traced packet: a DNAT or SNAT the run recorded on this
    host; a NEW packet is not confirmed and has seen no reply, a reply has both."""
    run, host = env.run, env.host
    out: set[str] = set()
    if pkt.ctstate == "NEW":
        if (host, str(pkt.dst)) in run.dnat:
            out.add("dnat")
        if pkt.src is not None and (host, str(pkt.src)) in run.snat:
            out.add("snat")
    else:
        out.update(("confirmed", "seen-reply"))
        if pkt.src is not None and (host, str(pkt.src)) in run.dnat:
            out.add("dnat")
        if (host, str(pkt.dst)) in run.snat:
            out.add("snat")
    return frozenset(out)


def _masked(expr: NftExpr, key: _Key) -> _Key | str:
    """Apply `& MASK` to a numeric key (marks) or a flag set (tcp flags)."""
    mask = expr.mask
    if mask is None:
        return key
    if key.kind == "num" and isinstance(key.value, int):
        m = _num(mask)
        return _Key("num", key.value & m) if m is not None else f"mask {mask} not understood"
    if key.kind == "words" and isinstance(key.value, frozenset):
        bits = frozenset(mask.replace("|", ",").split(","))
        return _Key("words", key.value & bits)
    return f"& {mask} on {expr.left[0]} is not simulated"


def _flags(elem: str) -> frozenset[str]:
    return frozenset(f for f in elem.replace("|", ",").split(",") if f)


def match_expr(expr: NftExpr, pkt: Packet, env: MatchEnv) -> MatchResult:
    """Match one `kind == "match"` expression."""
    if not expr.known:
        return _unknown(expr, "expression not understood")
    keys: list[_Key] = []
    for key in expr.left:
        got = key_value(key, pkt, env)
        if got is False:
            return False, ""
        if isinstance(got, str):
            return _unknown(expr, got)
        assert isinstance(got, _Key)
        keys.append(got)
    if len(keys) == 1:
        masked = _masked(expr, keys[0])
        if isinstance(masked, str):
            return _unknown(expr, masked)
        keys[0] = masked
    elif expr.mask is not None:
        return _unknown(expr, "a mask on a concatenation is not simulated")
    if expr.set_ref is not None:
        found = _set_elements(expr.set_ref, env)
        if isinstance(found, str):
            return _unknown(expr, found)
        elements, dynamic = found
    else:
        elements, dynamic = expr.right, False
    op = expr.op
    if op in ("<", ">", "<=", ">="):
        return _ordered(expr, keys, elements)
    if len(keys) == 1 and keys[0].kind == "words" and expr.left[0] in ("ct status", "tcp flags"):
        return _bits(expr, keys[0], elements)
    hit_any: bool | None = False
    for elem in elements:
        res = _element(elem, keys)
        if res is True:
            hit_any = True
            break
        if res is None:
            hit_any = None
    if hit_any is None:
        return _unknown(expr, "an element of the set is not understood")
    if hit_any is False and dynamic:
        return _unknown(expr, f"set @{expr.set_ref} is updated by the ruleset itself (its elements change)")
    return (hit_any if op != "!=" else not hit_any), ""


def _bits(expr: NftExpr, key: _Key, elements: list[str]) -> MatchResult:
    """A bitmask test (`ct status dnat`, `tcp flags syn / fin,syn,rst,ack`): with a mask, the masked
    flags equal an element; `in` (nft's implicit operator) or `!=`, any (no) bit of the elements set;
    `==` without a mask, equal flags (tcp flags only: conntrack's other status bits are not simulated)."""
    value = key.value
    assert isinstance(value, frozenset)
    if expr.mask is not None:
        hit = any(value == _flags(e) for e in elements)
        return (hit if expr.op != "!=" else not hit), ""
    want = frozenset().union(*(_flags(e) for e in elements)) if elements else frozenset()
    if expr.op in ("in", "!="):
        hit = bool(value & want)
        return (hit if expr.op == "in" else not hit), ""
    if expr.left[0] == "tcp flags":
        return any(value == _flags(e) for e in elements), ""
    return _unknown(expr, "an exact conntrack status is not simulated")


def _element(elem: str, keys: list[_Key]) -> bool | None:
    parts = elem.split(" . ") if len(keys) > 1 else [elem]
    if len(parts) != len(keys):
        return None
    result: bool | None = True
    for part, key in zip(parts, keys, strict=True):
        res = key.compare(part)
        if res is False:
            return False
        if res is None:
            result = None
    return result


def _ordered(expr: NftExpr, keys: list[_Key], elements: list[str]) -> MatchResult:
    if len(keys) != 1 or keys[0].kind != "num" or len(elements) != 1:
        return _unknown(expr, f"comparison {expr.op} is simulated for one number only")
    value, bound = keys[0].value, _num(elements[0])
    if bound is None or not isinstance(value, int):
        return _unknown(expr, f"{elements[0]} is not a number")
    ops = {"<": value < bound, ">": value > bound, "<=": value <= bound, ">=": value >= bound}
    return ops[expr.op], ""


def _set_elements(name: str, env: MatchEnv) -> tuple[list[str], bool] | str:
    nset = env.sets.get(name)
    if nset is None:
        return f"set @{name} is not in the dump"
    dynamic = any(f in ("dynamic", "timeout") for f in nset.flags)
    return list(nset.elements), dynamic


def lookup(expr: NftExpr, pkt: Packet, env: MatchEnv) -> tuple[str | None, str]:
    """A verdict map: the verdict text of the element the packet's key hits (`accept`, `goto X`...),
    "" when no element matches (the rule does not apply), None when undecidable (with the reason)."""
    keys: list[_Key] = []
    for key in expr.left:
        got = key_value(key, pkt, env)
        if got is False:
            return "", ""
        if isinstance(got, str):
            return None, f"{got}: `{expr.text}`"
        assert isinstance(got, _Key)
        keys.append(got)
    if expr.set_ref is not None:
        nset = env.sets.get(expr.set_ref)
        if nset is None or nset.kind != "map":
            return None, f"map @{expr.set_ref} is not in the dump: `{expr.text}`"
        pairs = list(zip(nset.elements, nset.values, strict=False))
    else:
        pairs = list(expr.mapping)
    undecided = False
    for elem, verdict in pairs:
        if len(keys) == 1 and keys[0].kind == "words" and expr.left[0] in ("ct state", "ct status"):
            res: bool | None = bool(keys[0].value & _flags(elem)) if isinstance(keys[0].value, frozenset) else None
        else:
            res = _element(elem, keys)
        if res is True:
            return verdict, ""
        if res is None:
            undecided = True
    if undecided:
        return None, f"an element of the map is not understood: `{expr.text}`"
    return "", ""
