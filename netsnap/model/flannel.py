"""flannel as its files say it, as its process runs it, and as its journal tells it."""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance, Record


class FlagValue(BaseModel):
    """One flanneld flag's value and where it was set (argv, env file, FLANNELD_* variable)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    value: str
    via: str
    src: Provenance


class FlannelConfig(BaseModel):
    """flanneld's effective flags, computed the way systemd and Go's flag package would.

    `argv` is the argument vector after systemd's `$VAR`/`${VAR}` expansion; `ignored` holds the
    arguments Go's flag parser never read because a non-flag word stopped it; `shadowed` lists
    FLANNELD_* variables that a command-line flag overrode; `problems` are human sentences.
    `repeated` holds every value of repeatable flags (`flags` keeps the first); `notes` states the
    assumptions made (e.g. the default unit of a distribution when no unit was captured).
    `unknown` names the flags whose value comes from a variable the bundle does not hold (an
    `EnvironmentFile=` that was not captured): `--iface=${IFACE}` is then kept as written in `flags`
    but its value is unknown, never empty; an entry `$VAR` means a whole-word `$VAR` whose arguments,
    any flags among them, are unknown.
    """

    model_config = ConfigDict(extra="forbid")

    origin: Literal["files", "process"]
    argv: list[str] = Field(default_factory=list)
    flags: dict[str, FlagValue] = Field(default_factory=dict)
    ignored: list[str] = Field(default_factory=list)
    shadowed: list[FlagValue] = Field(default_factory=list)
    env: dict[str, FlagValue] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)
    src: Provenance | None = None
    repeated: dict[str, list[FlagValue]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)

    def get(self, name: str) -> str | None:
        fv = self.flags.get(name)
        return fv.value if fv else None

    def values(self, name: str) -> list[FlagValue]:
        """Every value of a flag in order: all of a repeatable flag (`--iface`, `--iface-regex`), else the one."""
        if name in self.repeated:
            return list(self.repeated[name])
        fv = self.flags.get(name)
        return [fv] if fv else []


class SubnetEnv(BaseModel):
    """`/run/flannel/subnet.env`."""

    model_config = ConfigDict(extra="forbid")

    network: IPv4Network | None = None
    subnet: IPv4Interface | None = None
    mtu: int | None = None
    ipmasq: bool | None = None
    values: dict[str, str] = Field(default_factory=dict)
    lines: dict[str, int] = Field(default_factory=dict)
    src: Provenance


class NetConf(BaseModel):
    """flannel's network config (`net-conf.json` or the etcd `<prefix>/config` value)."""

    model_config = ConfigDict(extra="forbid")

    network: IPv4Network | None = None
    subnet_len: int | None = None
    backend_type: str = "vxlan"
    vni: int | None = None
    port: int | None = None
    mtu: int | None = None
    direct_routing: bool = False
    raw: dict[str, object] = Field(default_factory=dict)
    src: Provenance


class SystemdUnit(BaseModel):
    """`systemctl cat flanneld`: ExecStart lines, EnvironmentFile= and Environment= entries.

    Drop-ins already applied: an empty `ExecStart=` / `EnvironmentFile=` / `Environment=` resets the
    list. `environment_lines` / `environment_file_lines` give the line of each variable / file entry;
    `files` the unit file and drop-ins in the order `systemctl cat` showed them.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    exec_start: list[str] = Field(default_factory=list)
    exec_start_line: int | None = None
    environment_files: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    src: Provenance
    environment_lines: dict[str, int] = Field(default_factory=dict)
    environment_file_lines: dict[str, int] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)


FlannelEventKind = Literal[
    "iface-auto",  # Determining IP address of default interface
    "iface-chosen",  # Using interface with name X and address Y / Using X as external interface
    "external-address",  # Using X as external address / endpoint, Defaulting external address...
    "iface-search",  # Searching for interface using X / ifcanreach
    "iface-candidate-failed",
    "cli-flags",
    "backend",
    "vxlan-config",
    "lease",
    "subnet-added",
    "subnet-removed",
    "peer-event",
    "subnet-file",
    "iptables",
    "incompatible-device",
    "error",
    "start",
    "subnet-manager",  # the kube or etcd subnet manager's routine lines
    "shutdown",
    "unit",  # systemd about flanneld's unit (started, failed, exited, timed out, restarted)
    "runtime",  # rkt / flannel-wrapper fetching and starting the flannel image
    "other",
]


class FlannelEvent(Record):
    """One flanneld log line, classified. `fields` holds what the message pattern extracted
    (e.g. `iface`, `address`, `vni`, `port`, `subnet`, `public_ip`); `version_hint` is the
    flannel version family the line or its klog header points to. `message_id` names the log
    statement that printed it (netsnap.flannel.log_catalog: its meaning, severity and fix), None
    when no known statement did; `lines` is how many pasted lines the entry spans (a multi-line
    klog message, `journalctl -x` catalog text)."""

    timestamp: datetime | None = None
    level: Literal["I", "W", "E", "F", "?"] = "?"
    pid: int | None = None
    source_file: str | None = None
    identifier: str | None = None
    kind: FlannelEventKind = "other"
    message: str
    fields: dict[str, str] = Field(default_factory=dict)
    version_hint: str | None = None
    message_id: str | None = None
    lines: int = 1


class FlannelState(BaseModel):
    """Everything netsnap knows about flannel on one host."""

    model_config = ConfigDict(extra="forbid")

    env_files: dict[str, dict[str, FlagValue]] = Field(default_factory=dict)
    unit: SystemdUnit | None = None
    files_config: FlannelConfig | None = None
    process_config: FlannelConfig | None = None
    subnet_env: SubnetEnv | None = None
    options_env: dict[str, FlagValue] = Field(default_factory=dict)
    net_conf: NetConf | None = None
    events: list[FlannelEvent] = Field(default_factory=list)

    def events_of(self, kind: FlannelEventKind) -> list[FlannelEvent]:
        return [e for e in self.events if e.kind == kind]




class ProcessArgv(Record):
    """One running flanneld process's argument vector (`/proc/PID/cmdline`, one argument a line).

    `arg_lines[i]` is the 1-based line `argv[i]` came from.
    """

    pid: int | None = None
    argv: list[str] = Field(default_factory=list)
    arg_lines: list[int] = Field(default_factory=list)


SelectionMethod = Literal["iface", "iface-regex", "can-reach", "public-ip", "default-route"]


class Selection(BaseModel):
    """The external interface flanneld would choose on a host, recomputed from routes, addresses and flags.

    `address` is the interface address flannel takes, `external_address` what peers send to (the
    `--public-ip` if given). `error` is set (and `iface` may be None) when flanneld would fail to start.
    `evidence` are the flag, route and address lines that decided it; `reasoning` the steps in words.
    """

    model_config = ConfigDict(extra="forbid")

    iface: str | None = None
    address: IPv4Address | None = None
    external_address: IPv4Address | None = None
    method: SelectionMethod | None = None
    error: str | None = None
    evidence: list[Provenance] = Field(default_factory=list)
    reasoning: list[str] = Field(default_factory=list)
