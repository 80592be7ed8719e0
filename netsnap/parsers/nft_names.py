"""nftables vocabulary the JSON and the text reader share: named chain priorities, the meta keys nft
prints without `meta`, a bare `reject`'s kernel default, and how an iptables-nft table is recognised.

Sources: nft(8) "CHAINS" (the standard priority names and values, per family) and "REJECT
STATEMENT"; iptables-nft's table and chain names (iptables(8) "TABLES").
"""

from __future__ import annotations

import re

from netsnap.model.nftables import NftTable

# nft(8) "Table 6. Standard priority names, family and hook compatibility matrix"
_PRIORITY_INET = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
_PRIORITY_BRIDGE = {"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}
_PRIORITY_TEXT = re.compile(r"^\s*(?P<name>[a-z]+)?\s*(?:(?P<sign>[-+])\s*)?(?P<num>\d+)?\s*$")

# meta keys nft prints (and accepts) without the `meta` keyword; canonical keys always carry it
UNQUALIFIED_META = frozenset({
    "iif", "oif", "iifname", "oifname", "iiftype", "oiftype", "iifgroup", "oifgroup", "skuid", "skgid",
    "rtclassid", "ibrname", "obrname", "ibriport", "obriport", "ibrpvid", "ibrvproto", "pkttype", "cpu", "cgroup",
    "nftrace", "priority", "mark",
})

IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security", "broute"})
IPTABLES_CHAINS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "BROUTING"})


def priority_value(text: str, family: str) -> int | None:
    """`filter + 10` -> 10, `mangle - 5` -> -155, `-150` -> -150, `srcnat` (bridge) -> 300; None if unreadable."""
    m = _PRIORITY_TEXT.match(text)
    if m is None or (m.group("name") is None and m.group("num") is None):
        return None
    names = _PRIORITY_BRIDGE if family == "bridge" else _PRIORITY_INET
    base = 0
    name = m.group("name")
    if name is not None:
        if name not in names:
            return None
        base = names[name]
    sign, num_s = m.group("sign"), m.group("num")
    if name is not None and num_s is not None and sign is None:
        return None  # "filter 10" is not nft syntax
    num = int(num_s or 0)
    return base + (-num if sign == "-" else num)


def meta_key(key: str) -> str:
    """The canonical selector of a meta key: `meta iifname`."""
    return f"meta {key}"


def default_reject(family: str) -> str:
    """What a bare `reject` sends (nft(8): ICMP port unreachable; `icmpx` in inet, bridge and netdev)."""
    return "icmp port-unreachable" if family == "ip" else (
        "icmpv6 port-unreachable" if family == "ip6" else "icmpx port-unreachable")


def reject_text(kind: str | None, code: str | None, family: str) -> str:
    """The normalised reject type: (`icmpx`, `admin-prohibited`) -> `icmpx admin-prohibited`;
    (`tcp reset`, None) -> `tcp reset`; a type without a code gets the port-unreachable default."""
    if not kind:
        return default_reject(family)
    if kind.startswith("tcp"):
        return "tcp reset"
    return f"{kind} {code or 'port-unreachable'}"


def looks_like_iptables_nft(table: NftTable, has_xt: bool) -> bool:
    """A table iptables-nft made: one of iptables' table names in a family iptables-nft writes, with
    `xt` expressions, or whose base chains all carry iptables' built-in chain names."""
    if table.family not in ("ip", "ip6", "arp", "bridge") or table.name not in IPTABLES_TABLES:
        return False
    if has_xt:
        return True
    bases = [c for c in table.chains.values() if c.base]
    return bool(bases) and all(c.name in IPTABLES_CHAINS and c.name.lower() == c.hook for c in bases)
