"""Three-valued iptables rule matching: True, False, or None (undecidable, with the reason).

`-m statistic --mode random` is neither: it returns a Fork with the probability of matching, and
the trace engine splits the flow into two branches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_network

from netsnap.model.iptables import IpSet, IptRule, MatchModule
from netsnap.trace.packet import Packet

IPAddress = IPv4Address | IPv6Address

PROTO_NAMES = {"1": "icmp", "6": "tcp", "17": "udp", "icmp": "icmp", "tcp": "tcp", "udp": "udp"}
ICMP_TYPES = {"echo-request": 8, "echo-reply": 0, "destination-unreachable": 3, "time-exceeded": 11, "any": -1}
CT_STATES = {"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"}


@dataclass(frozen=True)
class Fork:
    """A random match: it matches with `probability`."""

    probability: float


MatchResult = bool | None | Fork


def _iface_match(pattern: str, name: str | None) -> bool | None:
    if name is None:
        return None
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _port_in(spec: str, port: int | None) -> bool | None:
    if port is None:
        return None
    for part in spec.split(","):
        lo_s, _, hi_s = part.partition(":")
        try:
            lo = int(lo_s) if lo_s else 0
            hi = int(hi_s) if hi_s else (lo if not part.endswith(":") else 65535)
        except ValueError:
            return None
        if lo <= port <= hi:
            return True
    return False


def _neg(value: bool | None, negated: bool) -> bool | None:
    if value is None:
        return None
    return not value if negated else value


def ipset_contains(ipset: IpSet, ip: IPAddress | None) -> bool | None:
    """Membership of an address in a `hash:ip` / `hash:net` set; None for types not simulated."""
    if ip is None or ipset.set_type not in ("hash:ip", "hash:net"):
        return None
    for member in ipset.members:
        text = member.split()[0].split(",")[0]
        if "-" in text:  # ranges are written as "a-b" in ipset save output
            return None
        try:
            if ip in ip_network(text, strict=False):
                return True
        except ValueError:
            return None
    return False


class RuleMatcher:
    """Matches rules of one host; `local_ips` answers `-m addrtype --src/dst-type LOCAL`, `ipsets`
    answers `-m set --match-set NAME src|dst` for the sets the bundle captured."""

    def __init__(self, local_ips: set[IPAddress] | dict[IPAddress, str],
                 ipsets: Mapping[str, IpSet] | None = None) -> None:
        self.local_ips = local_ips
        self.ipsets: Mapping[str, IpSet] = ipsets or {}

    def match(self, rule: IptRule, pkt: Packet) -> tuple[MatchResult, str]:
        """Match `rule` against `pkt`; the string explains an undecidable (None) answer."""
        if rule.source is not None:
            if pkt.src is None:
                return None, "source address not chosen yet"
            if _neg(pkt.src in rule.source.net, rule.source.negated) is False:
                return False, ""
        if rule.destination is not None and _neg(pkt.dst in rule.destination.net, rule.destination.negated) is False:
            return False, ""
        if rule.protocol is not None:
            want = rule.protocol.value.lower()
            if want not in ("all", "0"):
                name = PROTO_NAMES.get(want, want)
                if _neg(name == pkt.proto, rule.protocol.negated) is False:
                    return False, ""
        for attr, iface in (("in_iface", pkt.iif), ("out_iface", pkt.oif)):
            nm = getattr(rule, attr)
            if nm is not None:
                ok = _neg(_iface_match(nm.value, iface), nm.negated)
                if ok is False:
                    return False, ""
                if ok is None:
                    return None, f"interface of the packet unknown for {'-i' if attr == 'in_iface' else '-o'}"
        if rule.fragment is not None and rule.fragment:
            return False, ""  # traced packets are never non-first fragments
        fork: Fork | None = None
        for module in rule.matches:
            res, why = self._module(module, pkt)
            if res is False:
                return False, ""
            if res is None:
                return None, why
            if isinstance(res, Fork):
                fork = res
        return (fork if fork is not None else True), ""

    def _module(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        """One `-m NAME` block: `comment` always holds; a module the parser could not read, or one no matcher
        simulates, is undecidable; the others are decided by their matcher in MODULE_MATCHERS."""
        name = m.module
        if name == "comment":
            return True, ""
        if not m.known:
            return None, f"match module -m {name} not interpreted ({m.text or name})"
        matcher = MODULE_MATCHERS.get(name)
        if matcher is not None:
            return matcher(self, m, pkt)
        if name in UNSIMULATED:
            return None, f"-m {name} is not simulated ({m.text or name})"
        return None, f"-m {name} not interpreted"

    def _l4(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        """`-m tcp|udp|sctp`: ports, `--syn`, `--tcp-flags` (traced TCP packets: the first SYN, the SYN,ACK)."""
        if pkt.proto != m.module:
            return False, ""
        for opt in m.options:
            v = " ".join(opt.values)
            if opt.name in ("dport", "destination-port"):
                res = _neg(_port_in(v, pkt.dport), opt.negated)
            elif opt.name in ("sport", "source-port"):
                res = _neg(_port_in(v, pkt.sport), opt.negated)
            elif opt.name == "syn":
                res = _neg(pkt.proto == "tcp" and pkt.ctstate == "NEW", opt.negated)
            elif opt.name == "tcp-flags" and len(opt.values) == 2:
                flags = {"SYN"} if pkt.ctstate == "NEW" else {"SYN", "ACK"}
                fmask = {f.upper() for f in opt.values[0].split(",")}
                comp = {f.upper() for f in opt.values[1].split(",")} - {"NONE"}
                seen = flags if "ALL" in fmask else flags & fmask
                res = _neg(seen == comp, opt.negated)
            else:
                return None, f"option --{opt.name} of -m {m.module} not interpreted"
            if res is None:
                return None, f"--{opt.name} needs a port the packet does not have"
            if res is False:
                return False, ""
        return True, ""

    def _icmp(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        if pkt.proto != "icmp":
            return False, ""
        iopt = m.option("icmp-type")
        if iopt is None or not iopt.values:
            return True, ""
        spec = iopt.values[0].split("/")[0]
        wanted = ICMP_TYPES.get(spec)
        if wanted is None:
            try:
                wanted = int(spec)
            except ValueError:
                return None, f"ICMP type {spec!r} not interpreted"
        return _neg(wanted == -1 or wanted == pkt.icmp_type, iopt.negated), ""

    def _multiport(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        for opt in m.options:
            v = " ".join(opt.values)
            if opt.name in ("dports", "destination-ports"):
                res = _port_in(v, pkt.dport)
            elif opt.name in ("sports", "source-ports"):
                res = _port_in(v, pkt.sport)
            elif opt.name == "ports":
                a, b = _port_in(v, pkt.dport), _port_in(v, pkt.sport)
                res = True if (a or b) else (None if a is None and b is None else False)
            else:
                return None, f"option --{opt.name} of -m multiport not interpreted"
            res = _neg(res, opt.negated)
            if res is None:
                return None, "multiport needs a port the packet does not have"
            if res is False:
                return False, ""
        return True, ""

    def _conntrack(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        """`-m state|conntrack --state/--ctstate`: the request is NEW, its reply ESTABLISHED."""
        for opt in m.options:
            if opt.name in ("state", "ctstate"):
                states = {s.upper() for v in opt.values for s in v.split(",")}
                if _neg(pkt.ctstate in states, opt.negated) is False:
                    return False, ""
            else:
                return None, f"conntrack option --{opt.name} not interpreted"
        return True, ""

    def _addrtype(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        for opt in m.options:
            types = {t.upper() for v in opt.values for t in v.split(",")}
            if opt.name in ("src-type", "dst-type"):
                ip = pkt.src if opt.name == "src-type" else pkt.dst
                if ip is None:
                    return None, "source address not chosen yet"
                kind = "LOCAL" if ip in self.local_ips else "UNICAST"
                if ip.version == 4 and (ip.is_multicast or str(ip) == "255.255.255.255"):
                    kind = "MULTICAST" if ip.is_multicast else "BROADCAST"
                if _neg(kind in types, opt.negated) is False:
                    return False, ""
            else:
                return None, f"addrtype option --{opt.name} not interpreted"
        return True, ""

    def _mark(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        mopt = m.option("mark")
        if mopt is None or not mopt.values:
            return None, "-m mark without --mark"
        value_s, _, mask_s = mopt.values[0].partition("/")
        try:
            value = int(value_s, 0)
            mask = int(mask_s, 0) if mask_s else 0xFFFFFFFF
        except ValueError:
            return None, f"mark {mopt.values[0]!r} not understood"
        return _neg((pkt.mark & mask) == value, mopt.negated), ""

    def _statistic(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        """`--mode random --probability P`: a Fork (the trace follows both branches with their shares)."""
        mode = m.option("mode")
        prob = m.option("probability")
        if mode and mode.values and mode.values[0] == "random" and prob and prob.values:
            try:
                p = float(prob.values[0])
            except ValueError:
                return None, f"probability {prob.values[0]!r} not understood"
            p = min(1.0, max(0.0, p))
            return Fork(1.0 - p if prob.negated else p), ""
        return None, "-m statistic other than --mode random is not simulated"

    def _set(self, m: MatchModule, pkt: Packet) -> tuple[MatchResult, str]:
        sopt = m.option("match-set")
        set_name = sopt.values[0] if sopt and sopt.values else "?"
        ipset = self.ipsets.get(set_name)
        if ipset is None:
            return None, f"ipset {set_name} is not in the bundle"
        if sopt is None or len(sopt.values) < 2 or len(sopt.values[1].split(",")) != 1:
            return None, f"-m set --match-set {set_name} with several directions is not simulated"
        direction = sopt.values[1]
        found = ipset_contains(ipset, pkt.src if direction == "src" else pkt.dst)
        if found is None:
            return None, f"ipset {set_name} ({ipset.set_type}) membership is not simulated"
        return _neg(found, sopt.negated), ""


ModuleMatcher = Callable[[RuleMatcher, MatchModule, Packet], tuple[MatchResult, str]]

#: Which matcher decides which `-m` module; modules not listed are undecidable.
MODULE_MATCHERS: dict[str, ModuleMatcher] = {
    "tcp": RuleMatcher._l4, "udp": RuleMatcher._l4, "sctp": RuleMatcher._l4,
    "icmp": RuleMatcher._icmp,
    "multiport": RuleMatcher._multiport,
    "state": RuleMatcher._conntrack, "conntrack": RuleMatcher._conntrack,
    "addrtype": RuleMatcher._addrtype,
    "mark": RuleMatcher._mark,
    "statistic": RuleMatcher._statistic,
    "set": RuleMatcher._set,
}
#: Modules known to exist but deliberately not simulated (their outcome depends on state not in a bundle).
UNSIMULATED = frozenset({"limit", "physdev", "owner", "recent", "hashlimit", "u32", "bpf", "string", "length",
                         "connmark", "socket", "rpfilter", "devgroup", "cgroup"})
