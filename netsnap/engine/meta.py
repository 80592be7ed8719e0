"""Rule metadata: the fixed cause vocabulary, categories, and the validated `RuleMeta` every rule carries."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netsnap.engine.causes import CAUSES as CAUSE_TABLE
from netsnap.engine.findings import Confidence, Severity
from netsnap.sources import FACTS

CAUSES: tuple[str, ...] = tuple(CAUSE_TABLE)

_ID_RE = re.compile(r"^NS[1-9]\d\d$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")


class Category(StrEnum):
    ROUTING = "routing"
    FIREWALL = "firewall"
    FLANNEL = "flannel"
    OVERLAY = "overlay"
    KERNEL = "kernel"
    SECURITY_GROUP = "security-group"


Scope = Literal["host", "snapshot"]


Applies = Literal["any", "overlay"]


class RuleMeta(BaseModel):
    """What a rule checks and needs. `requires`: facts (netsnap.sources.FACTS) the host must hold, whatever
    source supplied them; `requires_any`: per group, at least one of the facts. `applies`: "overlay" rules are
    "not applicable" on a host known to run no overlay (rather than "not evaluated"). `scope` "host" runs
    `check` once per host, "snapshot" once for all hosts (hosts lacking the facts are listed as not evaluated;
    `min_hosts` such hosts are needed to run). `what`/`why`/`example`/`fix` are the ruff-style documentation
    sections (Markdown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    title: str
    cause: str
    severity: Severity
    confidence: Confidence
    category: Category
    requires: tuple[str, ...] = ()
    requires_any: tuple[tuple[str, ...], ...] = ()
    applies: Applies = "any"
    main: bool = False  # a main check: when it cannot run, the summary is never an all-clear
    scope: Scope = "host"
    min_hosts: int = 1
    references: tuple[str, ...] = ()
    since: str = "0.1.0"
    what: str
    why: str
    example: str
    fix: str
    tags: tuple[str, ...] = Field(default_factory=tuple)

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError(f"rule id {v!r} must look like NS101")
        return v

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(f"rule name {v!r} must be kebab-case")
        return v

    @field_validator("cause")
    @classmethod
    def _check_cause(cls, v: str) -> str:
        if v not in CAUSES:
            raise ValueError(f"cause {v!r} is not in the cause vocabulary")
        return v

    @field_validator("requires")
    @classmethod
    def _check_requires(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in v if s not in FACTS]
        if unknown:
            raise ValueError(f"unknown facts: {', '.join(unknown)} (known: {', '.join(FACTS)})")
        return v

    @field_validator("requires_any")
    @classmethod
    def _check_requires_any(cls, v: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for group in v:
            if not group:
                raise ValueError("a requires_any group must name at least one fact")
            unknown = [s for s in group if s not in FACTS]
            if unknown:
                raise ValueError(f"unknown facts: {', '.join(unknown)} (known: {', '.join(FACTS)})")
        return v

    @model_validator(mode="after")
    def _check_docs(self) -> RuleMeta:
        for section in ("title", "what", "why", "example", "fix"):
            if not getattr(self, section).strip():
                raise ValueError(f"rule {self.id}: doc section {section!r} is empty")
        if self.min_hosts < 1:
            raise ValueError("min_hosts must be at least 1")
        return self

    @property
    def family(self) -> str:
        """The ID family: NS1xx routing, NS2xx firewall, NS3xx flannel/overlay, NS4xx kernel."""
        return {"1": "routing", "2": "firewall", "3": "flannel/overlay", "4": "kernel"}.get(self.id[2], "other")
