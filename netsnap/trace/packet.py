"""The packet a trace carries from hop to hop (immutable; NAT and encapsulation make new ones)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from netsnap.trace.result import PacketInfo

IPAddress = IPv4Address | IPv6Address

ICMP_ECHO_REQUEST = 8
ICMP_ECHO_REPLY = 0
VXLAN_OVERHEAD = 50  # outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14)


@dataclass(frozen=True)
class Packet:
    """IPv4 header fields a trace needs. `src` is None until routing picks it for local output.

    `ctstate` is what conntrack would say (NEW for the request, ESTABLISHED for the reply);
    `size` is the IP packet length (None: not checked against MTUs; set: DF is assumed, as
    `ping -M do` and TCP do). `inner`/`vni` are set on an outer VXLAN packet.
    """

    src: IPAddress | None
    dst: IPAddress
    proto: str = "icmp"
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = ICMP_ECHO_REQUEST
    size: int | None = None
    mark: int = 0
    ctstate: str = "NEW"
    iif: str | None = None
    oif: str | None = None
    inner: Packet | None = None
    vni: int | None = None

    def with_(self, **changes: Any) -> Packet:
        """A copy with `changes` (field names are checked; no __init__ round trip)."""
        unknown = changes.keys() - _FIELD_SET
        if unknown:
            raise TypeError(f"Packet has no field {sorted(unknown)[0]}")
        new = object.__new__(Packet)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def info(self) -> PacketInfo:
        """The packet as a deny step records it."""
        return PacketInfo(src=ipstr(self.src) if self.src else None, dst=ipstr(self.dst), proto=self.proto,
                          sport=self.sport, dport=self.dport, iif=self.iif, oif=self.oif,
                          outer=self.inner is not None)

    def describe(self) -> str:
        ports = ""
        if self.proto in ("tcp", "udp"):
            ports = f" {self.sport or '*'}->{self.dport or '*'}"
        elif self.proto == "icmp" and self.icmp_type is not None:
            ports = " echo-request" if self.icmp_type == ICMP_ECHO_REQUEST else (
                " echo-reply" if self.icmp_type == ICMP_ECHO_REPLY else f" type {self.icmp_type}")
        size = f" {self.size}B" if self.size else ""
        return f"{self.proto} {ipstr(self.src) if self.src else '?'} -> {ipstr(self.dst)}{ports}{size} [{self.ctstate}]"


_FIELD_SET = frozenset(f.name for f in fields(Packet))


_IPV4_TEXT: dict[int, str] = {}


def ipstr(ip: IPAddress) -> str:
    """str() of an address, memoised by its integer for IPv4 (ipaddress formats and hashes in Python)."""
    if type(ip) is not IPv4Address:
        return _ipstr_other(ip)
    value = int(ip)
    text = _IPV4_TEXT.get(value)
    if text is None:
        if len(_IPV4_TEXT) >= 1 << 16:
            _IPV4_TEXT.clear()
        text = _IPV4_TEXT[value] = str(ip)
    return text


@lru_cache(maxsize=1 << 12)
def _ipstr_other(ip: IPAddress) -> str:
    return str(ip)
