"""Host firewall managers: firewalld's state and configuration (zones as `firewall-cmd --list-all-zones`
shows them, the active zone bindings, the daemon's state, default zone, LogDenied, its backend from
firewalld.conf) and UFW's (`ufw status verbose`, /etc/default/ufw).

The rulesets they generate (nftables for firewalld, iptables chains `ufw-*` for UFW) are what the trace
evaluates; this model names zones and rules and gives the fix (`firewall-cmd --permanent --zone=Z
--add-port=8472/udp`, `ufw allow 8472/udp`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Record


class FirewalldZone(Record):
    """One zone block of `firewall-cmd --list-all-zones` (runtime) or `--get-active-zones` (bindings
    only: `bindings_only` True). `target` as firewalld writes it (`default`, `ACCEPT`, `DROP`,
    `%%REJECT%%`); `ports`/`protocols`/`source_ports` as `8472/udp`; `rich_rules` verbatim."""

    name: str
    active: bool = False
    default: bool = False
    bindings_only: bool = False
    target: str | None = None
    icmp_block_inversion: bool | None = None
    interfaces: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    ports: list[str] = Field(default_factory=list)
    protocols: list[str] = Field(default_factory=list)
    forward: bool | None = None
    masquerade: bool | None = None
    forward_ports: list[str] = Field(default_factory=list)
    source_ports: list[str] = Field(default_factory=list)
    icmp_blocks: list[str] = Field(default_factory=list)
    rich_rules: list[str] = Field(default_factory=list)


class FirewalldSetting(Record):
    """One firewall-cmd answer: `state` (`running`/`not running`), `default_zone` or `log_denied`."""

    key: str
    value: str


class ConfSetting(Record):
    """One `KEY=VALUE` line of a configuration file (firewalld.conf, /etc/default/ufw), unquoted."""

    key: str
    value: str


class FirewalldState(BaseModel):
    """What the bundle says about firewalld. `running` is None when `--state` was not collected.
    `backend` is firewalld.conf's FirewallBackend (None: not set; firewalld >= 0.6 then uses nftables)."""

    model_config = ConfigDict(extra="forbid")

    running: bool | None = None
    default_zone: str | None = None
    log_denied: str | None = None
    backend: str | None = None
    conf: dict[str, ConfSetting] = Field(default_factory=dict)
    zones: dict[str, FirewalldZone] = Field(default_factory=dict)
    file: str | None = None

    def uses_nftables(self) -> bool:
        """firewalld runs (or is configured) with its nftables backend."""
        if self.running is False:
            return False
        if self.backend is not None:
            return self.backend.lower() == "nftables"
        return self.running is True

    def describe_backend(self) -> str:
        state = {True: "is running", False: "is not running", None: "is configured"}[self.running]
        return f"{state} with FirewallBackend={self.backend or 'nftables (default)'}"

    def zone_of(self, interface: str | None = None, source: str | None = None) -> FirewalldZone | None:
        """The active zone an interface (or a source address/network, as listed) is bound to."""
        for zone in self.zones.values():
            if (interface and interface in zone.interfaces) or (source and source in zone.sources):
                return zone
        return None


def firewalld_fix(zone: str | None, proto: str | None, port: int | None, *, forwarded: bool = False,
                  pod_network: str | None = None) -> list[str]:
    """The firewall-cmd commands that let a flow through the zone that rejected it (runtime and permanent):
    a local port (`--add-port=8472/udp`; ICMP: `--add-icmp-block-inversion` is not suggested, the
    protocol is), or, for forwarded pod traffic, the pod network as a source of the trusted zone."""
    where = f" --zone={zone}" if zone else ""
    if forwarded and pod_network:
        add = f" --zone=trusted --add-source={pod_network}"
    elif proto in ("tcp", "udp", "sctp") and port:
        add = f"{where} --add-port={port}/{proto}"
    elif proto:
        add = f"{where} --add-protocol={proto}"
    else:
        return []
    return [f"firewall-cmd --permanent{add}", "firewall-cmd --reload"]


class UfwRule(Record):
    """One rule line of `ufw status verbose` / `ufw status numbered`: `to` (`8472/udp`, `Anywhere`),
    `action` (`ALLOW IN`, `DENY`, `REJECT OUT`, `LIMIT IN`, `ALLOW FWD`), `source` (`192.168.0.0/24`,
    `Anywhere`), `v6` for the `(v6)` twins, `number` when numbered, the `# comment` if any."""

    to: str
    action: str
    source: str
    v6: bool = False
    number: int | None = None
    comment: str | None = None


class UfwSetting(Record):
    """One header value of `ufw status verbose`: `status`, `logging`, `default`, `new_profiles`."""

    key: str
    value: str


class UfwState(BaseModel):
    """What the bundle says about UFW. `active` is None when `ufw status` was not collected; the
    defaults come from `Default: deny (incoming), allow (outgoing), disabled (routed)` (verbose only) or,
    failing that, /etc/default/ufw (`DEFAULT_FORWARD_POLICY="DROP"`...)."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    incoming: str | None = None
    outgoing: str | None = None
    routed: str | None = None
    rules: list[UfwRule] = Field(default_factory=list)
    conf: dict[str, ConfSetting] = Field(default_factory=dict)
    file: str | None = None
