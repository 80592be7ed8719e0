"""The typed model every layer shares: provenance, host state and snapshots.

Data flows one way: bundle -> sources -> parsers -> this model -> graph -> rules -> findings.
Parsed models are read-only: to keep 100k-rule hosts small, parsers share equal values and
containers between records (a rule's matches, an event's fields); build changed copies with
`model_copy(update=...)` instead of mutating.
"""

from netsnap.model.base import Parsed, Provenance, Record, UnparsedLine
from netsnap.model.evidence import Evidence, quote, quote_at
from netsnap.model.flannel import (
    FlagValue,
    FlannelConfig,
    FlannelEvent,
    FlannelState,
    NetConf,
    ProcessArgv,
    Selection,
    SubnetEnv,
    SystemdUnit,
)
from netsnap.model.host import BundleInfo, Host, Identity, IdentityFact, Snapshot, SourceState, SourceStatus
from netsnap.model.interfaces import Counters, IfAddress, Interface, VxlanInfo
from netsnap.model.iptables import (
    AddrMatch,
    Chain,
    IpSet,
    IptRule,
    MatchModule,
    MatchOption,
    Ruleset,
    Table,
    Target,
)
from netsnap.model.kernel import EthtoolFeature, KernelEvent, KernelModule, Sysctl
from netsnap.model.neighbours import FdbEntry, Neighbour
from netsnap.model.routes import NextHop, PolicyRule, Route

__all__ = [
    "AddrMatch",
    "BundleInfo",
    "Chain",
    "Counters",
    "EthtoolFeature",
    "Evidence",
    "FdbEntry",
    "FlagValue",
    "FlannelConfig",
    "FlannelEvent",
    "FlannelState",
    "Host",
    "Identity",
    "IdentityFact",
    "IfAddress",
    "Interface",
    "IpSet",
    "IptRule",
    "KernelEvent",
    "KernelModule",
    "MatchModule",
    "MatchOption",
    "Neighbour",
    "NetConf",
    "NextHop",
    "Parsed",
    "PolicyRule",
    "ProcessArgv",
    "Provenance",
    "Record",
    "Route",
    "Ruleset",
    "Selection",
    "Snapshot",
    "SourceState",
    "SourceStatus",
    "SubnetEnv",
    "Sysctl",
    "SystemdUnit",
    "Table",
    "Target",
    "UnparsedLine",
    "VxlanInfo",
    "quote",
    "quote_at",
]
