"""A Host (one bundle's parsed state) and a Snapshot (several hosts analysed together)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance, Record, UnparsedLine
from netsnap.model.firewalld import FirewalldState, UfwState
from netsnap.model.flannel import FlannelState
from netsnap.model.interfaces import IfAddress, Interface
from netsnap.model.iptables import IpSet, Ruleset
from netsnap.model.kernel import EthtoolFeature, KernelEvent, KernelModule, Sysctl, VxlanModule
from netsnap.model.neighbours import FdbEntry, Neighbour
from netsnap.model.nftables import NftRuleset
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


#: A source is understood when at least this share of its lines (and of the records its parser expected)
#: was read; below it, and always at 0 records from a non-empty file whose parser expected some (or could
#: not say how many), it is "partly understood" and the facts it carries count as absent: rules that need
#: them are "not evaluated", never passed.
UNDERSTOOD_SHARE = 0.9


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
    lines: int = 0  # non-blank lines in the file
    empty_answer: bool = False  # empty output of a command that prints nothing when there is nothing (exit 0)
    unparsed: list[UnparsedLine] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.state in (SourceState.OK, SourceState.TRUNCATED)

    @property
    def understood(self) -> bool:
        """Usable and read well enough to decide on (see UNDERSTOOD_SHARE); an empty answer ("no rules loaded")
        is understood too."""
        if self.empty_answer:
            return True
        if not self.usable:
            return False
        if self.lines == 0:
            return True
        if self.expected is None and self.parsed == 0:
            return False  # records were due (the parser counts none it could check against) and none came
        if self.expected and self.parsed < UNDERSTOOD_SHARE * self.expected:
            return False
        return len(self.unparsed) <= (1 - UNDERSTOOD_SHARE) * self.lines

    @property
    def coverage(self) -> str:
        """`N of M lines understood in FILE` (with the record count when the parser expected one)."""
        where = f" in {self.file}" if self.file else ""
        read = max(self.lines - len(self.unparsed), 0)
        records = f", {self.parsed} of {self.expected} records" if self.expected else ""
        return f"{read} of {self.lines} lines understood{where}{records}"

    @property
    def shown_state(self) -> str:
        """The state as inventory shows it: `partly understood` for a usable source below the share."""
        return "partly understood" if self.usable and not self.understood else self.state.value


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
    `date`, `uptime`, `dmi.<NAME>` (a DMI attribute). The loader folds them into `Host.identity`.
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
    #: DMI attributes (`sys_vendor`, `product_name`, `chassis_asset_tag`) where collected
    dmi: dict[str, str] = Field(default_factory=dict)


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
    nftables: NftRuleset | None = None
    firewalld: FirewalldState | None = None
    ufw: UfwState | None = None
    sysctls: dict[str, Sysctl] = Field(default_factory=dict)
    modules: dict[str, KernelModule] = Field(default_factory=dict)
    kernel_events: list[KernelEvent] = Field(default_factory=list)
    ethtool: list[EthtoolFeature] = Field(default_factory=list)
    vxlan_module: VxlanModule = Field(default_factory=VxlanModule)
    flannel: FlannelState = Field(default_factory=FlannelState)
    sources: dict[str, SourceStatus] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)  # facts the combine stage inferred (netsnap.combine)

    def has(self, source: str) -> bool:
        """The source was read and understood (see SourceStatus.understood)."""
        st = self.sources.get(source)
        return st is not None and st.understood

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
