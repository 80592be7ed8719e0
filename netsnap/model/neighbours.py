"""Neighbour (ARP/NDP) entries and bridge forwarding-database entries."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from pydantic import Field

from netsnap.model.base import Record


class Neighbour(Record):
    """One `ip neigh` line; `extra` keeps other words (`proxy`, `extern_learn`, `used 1/2/3`)."""

    address: IPv4Address | IPv6Address
    dev: str | None = None
    lladdr: str | None = None
    router: bool = False
    states: list[str] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)


class FdbEntry(Record):
    """One `bridge fdb show` line; VXLAN entries carry `dst`, the peer VTEP; `extra` keeps other
    key/value words (`port`, `vni`, `src_vni`, `via`, `nhid`)."""

    mac: str
    dev: str | None = None
    dst: IPv4Address | IPv6Address | None = None
    vlan: int | None = None
    master: str | None = None
    flags: list[str] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)
