"""Kernel settings: sysctls, loaded modules, dmesg events, ethtool features, the vxlan module's port."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Record


class Sysctl(Record):
    key: str
    value: str


class KernelModule(Record):
    name: str
    size: int | None = None
    used_by_count: int | None = None
    used_by: list[str] = Field(default_factory=list)


KernelEventKind = Literal["conntrack-full", "bad-checksum", "other"]


class KernelEvent(Record):
    """A dmesg line of interest; `fields` holds what the kind's pattern extracted."""

    kind: KernelEventKind
    timestamp: str | None = None
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class EthtoolFeature(Record):
    """One `feature: on|off [fixed]` line of `ethtool -k DEV`."""

    dev: str
    name: str
    enabled: bool
    fixed: bool = False


class ModuleParameter(Record):
    """A kernel module parameter's value as the running kernel shows it (/sys/module/M/parameters/P)."""

    module: str
    name: str
    value: str


class ModuleOption(Record):
    """One `name=value` of an `options MODULE ...` line of a modprobe configuration file.

    `config_file` is the file on the host (`/etc/modprobe.d/vxlan.conf`) when the bundle says it: a
    collector bundle's `==> FILE <==` header, or the path of a sosreport's copy.
    """

    module: str
    name: str
    value: str
    config_file: str | None = None


class VxlanModule(BaseModel):
    """The vxlan module's UDP port: what the running kernel uses (`udp_port`, the port of every VXLAN
    device created without `dstport`) and where a non-default value is set (`options vxlan udp_port=`)."""

    model_config = ConfigDict(extra="forbid")

    udp_port: ModuleParameter | None = None
    options: list[ModuleOption] = Field(default_factory=list)

    @property
    def port(self) -> int | None:
        value = self.udp_port.value if self.udp_port else None
        return int(value) if value is not None and value.isdigit() else None

    @property
    def port_option(self) -> ModuleOption | None:
        """The `udp_port=` option modprobe applies (the last one read), if any."""
        found = [o for o in self.options if o.module == "vxlan" and o.name == "udp_port"]
        return found[-1] if found else None

    def port_origin(self) -> str | None:
        """Where the module's port comes from, as a sentence fragment, or None when nothing was collected."""
        set_by = [o for o in self.options if o.module == "vxlan" and o.name == "udp_port"]
        if set_by:
            where = [f"`options vxlan udp_port={o.value}` in " + (f"{o.config_file} ({o.src})" if o.config_file
                                                                   else str(o.src)) for o in set_by]
            also = f" (read after {'; '.join(where[:-1])})" if len(where) > 1 else ""
            return where[-1] + also
        if self.port is not None:
            return (f"the vxlan module's udp_port is {self.port} and no modprobe.d file sets it (the kernel default "
                    "is 8472; a `vxlan.udp_port=` kernel argument would also set it)")
        return None
