"""Interfaces, their addresses, VXLAN details and counters."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance, Record


class IfAddress(Record):
    """One `inet`/`inet6` line of `ip -d address`; `flags` holds words such as `dynamic`,
    `noprefixroute`, `tentative`, `dadfailed`; `extra` other key/value words (`metric`, `proto`)."""

    address: IPv4Interface | IPv6Interface
    peer: IPv4Interface | IPv6Interface | None = None
    scope: str | None = None
    secondary: bool = False
    label: str | None = None
    broadcast: IPv4Address | None = None
    flags: list[str] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)


class VxlanInfo(BaseModel):
    """The `vxlan id N local A dev D dstport P` details of a VXLAN device."""

    model_config = ConfigDict(extra="forbid")

    vni: int
    local: IPv4Address | IPv6Address | None = None
    dev: str | None = None
    dstport: int | None = None
    learning: bool = True
    src: Provenance


class Counters(BaseModel):
    """`ip -s link` RX/TX counters of one interface."""

    model_config = ConfigDict(extra="forbid")

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0
    src: Provenance


class Interface(Record):
    """One link, merged from `ip -d link`, `ip -d address` and `ip -s link`.

    `name` has any `@peer` suffix removed; the peer is kept in `link`.
    """

    name: str
    index: int | None = None
    link: str | None = None
    kind: str | None = None
    flags: list[str] = Field(default_factory=list)
    state: str | None = None
    mtu: int | None = None
    mac: str | None = None
    master: str | None = None
    addresses: list[IfAddress] = Field(default_factory=list)
    vxlan: VxlanInfo | None = None
    counters: Counters | None = None
    details: dict[str, str] = Field(default_factory=dict)

    @property
    def is_up(self) -> bool:
        return "UP" in self.flags
