"""A Host (one bundle's parsed state) and a Snapshot (several hosts analysed together)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance, Record, UnparsedLine
from netsnap.model.flannel import FlannelState
from netsnap.model.interfaces import IfAddress, Interface
from netsnap.model.iptables import IpSet, Ruleset
from netsnap.model.kernel import EthtoolFeature, KernelEvent, KernelModule, Sysctl, VxlanModule
from netsnap.model.neighbours import FdbEntry, Neighbour
from netsnap.model.routes import PolicyRule, Route


class SourceState(StrEnum):
    """Why a source is or is not usable. Only `ok` and `truncated` carry parsed data."""

    OK = "ok"
    NOT_COLLECTED = "not collected"
    COMMAND_MISSING = "command missing"
    FAILED = "failed"
    EMPTY = "empty"
    TIMED_OUT = "timed out"
    TRUNCATED = "truncated"
    UNREADABLE = "unreadable"


class SourceStatus(BaseModel):
    """One logical source of a host: where it came from, how it fared, what was not understood."""

    model_config = ConfigDict(extra="forbid")

    source: str
    state: SourceState
    file: str | None = None
    command: str | None = None
    size: int = 0
    exit_code: int | None = None
    duration_ms: int | None = None
    sha256: str | None = None
    parsed: int = 0
    expected: int | None = None
    unparsed: list[UnparsedLine] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.state in (SourceState.OK, SourceState.TRUNCATED)


class BundleInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    kind: str
    sha256: str | None = None
    collector_version: str | None = None
    collected_at: datetime | None = None
    redactions: int = 0
    problems: list[str] = Field(default_factory=list)


class IdentityFact(Record):
    """One identity fact from hostname, uname -a, os-release, date or uptime.

    Keys: `hostname`, `kernel` (the release), `uname` (the whole line), `os.<KEY>` (os-release),
    `date`, `uptime`. The loader folds them into `Host.identity`.
    """

    key: str
    value: str


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hostname: str
    kernel: str | None = None
    os_release: dict[str, str] = Field(default_factory=dict)
    date: str | None = None
    uptime: str | None = None


class Host(BaseModel):
    """Everything parsed from one bundle. Lists keep source order; every item has provenance."""

    model_config = ConfigDict(extra="forbid")

    name: str
    bundle: BundleInfo
    identity: Identity
    interfaces: dict[str, Interface] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    routes_origin: str | None = None
    policy_rules: list[PolicyRule] = Field(default_factory=list)
    neighbours: list[Neighbour] = Field(default_factory=list)
    fdb: list[FdbEntry] = Field(default_factory=list)
    iptables: dict[str, Ruleset] = Field(default_factory=dict)
    ipsets: dict[str, IpSet] = Field(default_factory=dict)
    sysctls: dict[str, Sysctl] = Field(default_factory=dict)
    modules: dict[str, KernelModule] = Field(default_factory=dict)
    kernel_events: list[KernelEvent] = Field(default_factory=list)
    ethtool: list[EthtoolFeature] = Field(default_factory=list)
    vxlan_module: VxlanModule = Field(default_factory=VxlanModule)
    flannel: FlannelState = Field(default_factory=FlannelState)
    sources: dict[str, SourceStatus] = Field(default_factory=dict)

    def has(self, source: str) -> bool:
        st = self.sources.get(source)
        return st is not None and st.usable

    def routes_in(self, table: str = "main") -> list[Route]:
        return [r for r in self.routes if r.table == table]

    def addresses(self) -> Iterator[IfAddress]:
        for iface in self.interfaces.values():
            yield from iface.addresses

    def owns(self, ip: IPv4Address | IPv6Address) -> bool:
        return any(a.address.ip == ip for a in self.addresses())

    def sysctl(self, key: str) -> str | None:
        s = self.sysctls.get(key)
        return s.value if s else None

    @property
    def filter_ruleset(self) -> Ruleset | None:
        """The IPv4 ruleset the kernel most likely enforces (nft view first on split hosts)."""
        for key in ("iptables", "iptables-nft", "iptables-legacy", "list"):
            if key in self.iptables:
                return self.iptables[key]
        return None

    def provenance(self, source: str) -> Provenance | None:
        st = self.sources.get(source)
        return Provenance(file=st.file) if st and st.file else None


class Snapshot(BaseModel):
    """Several hosts analysed together (a cluster's worth of bundles)."""

    model_config = ConfigDict(extra="forbid")

    hosts: list[Host] = Field(default_factory=list)

    def host(self, key: str) -> Host | None:
        """Find a host by name or by one of its addresses."""
        for h in self.hosts:
            if key in (h.name, h.identity.hostname):
                return h
        for h in self.hosts:
            if any(str(a.address.ip) == key for a in h.addresses()):
                return h
        return None
