"""Fast IPv4Network values for the hot parsers: a kube-proxy ruleset holds ~30,000 distinct /32s.

`ipaddress.IPv4Network(...)` costs ~3 us (plus ~3 us of our own text checks) and gives every /31
and /32 its own `hosts` closure (~200 B). `network("a.b.c.d[/len]")` builds the same value from
its parts in ~1.5 us without the closure: equal, with the same hash, str, repr, properties and
pydantic serialisation. The one difference: `hosts()` of a /31 or /32 built here is the class's
generic one (empty), not the stdlib's per-instance override (nothing in netsnap calls `hosts()`).
The shortcut is checked against the stdlib at import; if this Python's internals differ, the
stdlib constructor is used instead.
"""

from __future__ import annotations

import re
import socket
from ipaddress import IPv4Address, IPv4Network

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # no leading zeros, as the stdlib requires
_DOTTED = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)
_PREFIX = {str(p): p for p in range(33)}
_MASK = [(0xFFFFFFFF << (32 - p)) & 0xFFFFFFFF for p in range(33)]
_NETMASK = [IPv4Network((0, p)).netmask for p in range(33)]
_new = object.__new__
_aton = socket.inet_aton
_from_bytes = int.from_bytes


def network(text: str) -> IPv4Network | None:
    """`a.b.c.d` or `a.b.c.d/len` as a network (host bits cleared); None for any other text."""
    addr, slash, plen_text = text.partition("/")
    plen = _PREFIX.get(plen_text, -1) if slash else 32
    if plen < 0 or not _DOTTED.fullmatch(addr):
        return None
    return _build(_from_bytes(_aton(addr), "big"), plen)


def address(text: str) -> IPv4Address | None:
    """`a.b.c.d` as an address; None for any other text (`999.1.1.1`, `010.0.0.1`, a name): for values
    read out of free text (log messages), where a bad one must be left out, never raise."""
    net = network(text) if "/" not in text else None
    return net.network_address if net is not None else None


def _shortcut(value: int, plen: int) -> IPv4Network:
    address = _new(IPv4Address)
    address._ip = value & _MASK[plen]  # type: ignore[attr-defined]  # the stdlib slot typeshed omits
    net = _new(IPv4Network)
    net.network_address = address
    net.netmask = _NETMASK[plen]
    net._prefixlen = plen  # type: ignore[attr-defined]
    return net


def _stdlib(value: int, plen: int) -> IPv4Network:
    return IPv4Network((value, plen), strict=False)


def _shortcut_agrees() -> bool:
    samples = ("10.244.7.208", "10.0.0.0/8", "192.168.1.77/24", "0.0.0.0/0", "255.255.255.255/32", "10.1.2.3/31")
    for text in samples:
        addr, _, plen_text = text.partition("/")
        value, plen = _from_bytes(_aton(addr), "big"), int(plen_text or 32)
        ours, ref = _shortcut(value, plen), IPv4Network(text, strict=False)
        checks = [(ours, ref), (hash(ours), hash(ref)), (str(ours), str(ref)), (repr(ours), repr(ref)),
                  (ours.broadcast_address, ref.broadcast_address), (ours.hostmask, ref.hostmask),
                  (ours.num_addresses, ref.num_addresses), (ours.with_netmask, ref.with_netmask),
                  (IPv4Address("10.244.7.208") in ours, IPv4Address("10.244.7.208") in ref),
                  (ours.overlaps(ref), True), (ours.supernet_of(ref), True), (ours.is_private, ref.is_private)]
        if any(a != b for a, b in checks):
            return False
    return True


_build = _shortcut if _shortcut_agrees() else _stdlib
