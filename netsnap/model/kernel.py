"""Kernel settings: sysctls, loaded modules, dmesg events, ethtool features."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
