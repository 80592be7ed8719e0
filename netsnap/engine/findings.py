"""Findings and the analysis result: the contract between rules and renderers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.evidence import Evidence
from netsnap.trace.result import Doubt, Step, TraceResult


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Finding(BaseModel):
    """One proven cause. `key` makes the anchor `<rule>-<key>` stable across runs; `impact` orders
    causes on a shared path (higher breaks more traffic); `path` names the traffic it breaks."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    cause: str
    severity: Severity
    confidence: Confidence
    title: str
    hosts: list[str]
    explanation: str
    evidence: list[Evidence] = Field(default_factory=list)
    remediation: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    path: str | None = None
    impact: int = 0
    key: str = ""
    checks: list[str] = Field(default_factory=list)  # the trace checks (Step.check) this cause is about
    assumptions: list[str] = Field(default_factory=list)  # what the finding took as true without evidence

    @property
    def anchor(self) -> str:
        return f"{self.rule}-{self.key}" if self.key else self.rule


class NotEvaluated(BaseModel):
    """A rule that could not run on a host: the facts it lacked (`missing`) and, in `reason`, every source
    that could have supplied them and how it fared."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    title: str
    hosts: list[str]
    missing: list[str]
    reason: str


class RuleRun(BaseModel):
    """How one rule fared on this run: it fired, passed, or could not be evaluated."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    title: str
    cause: str
    category: str
    status: str  # "fired" | "passed" | "not-evaluated" | "not-applicable"
    hosts: list[str] = Field(default_factory=list)
    main: bool = False  # an error-level check: when it cannot run, the summary is never an all-clear
    not_applicable: list[str] = Field(default_factory=list)  # hosts known to run no overlay


class HostSummary(BaseModel):
    """One analysed bundle as the report's header shows it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    bundle: str
    kind: str
    sha256: str | None = None
    collector_version: str | None = None
    collected_at: str | None = None
    sources_ok: int = 0
    sources_missing: list[str] = Field(default_factory=list)
    sources_partial: list[str] = Field(default_factory=list)  # read but partly understood
    unparsed_lines: int = 0


class FlowVerdict(BaseModel):
    """A flow the cluster needs, as the reachability graph answers it: the verdict, every check on the path
    that blocks it (in path order), what leaves it undecided, and which findings explain the blockers.
    `unexplained` lists blocking checks no finding names."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    label: str
    src_host: str
    dst_host: str
    src_ip: str | None = None
    dst_ip: str
    proto: str
    port: int | None = None
    verdict: str
    disposition: str
    reason: str
    blockers: list[Step] = Field(default_factory=list)
    doubts: list[Doubt] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    explained_by: list[str] = Field(default_factory=list)
    unexplained: list[str] = Field(default_factory=list)


class AnalysisResult(BaseModel):
    """Everything `netsnap analyze` produces; the renderers (text, JSON, HTML) only read this.

    `flows` are the required flows with their answers; `traces` the full traces of those flows.
    """

    model_config = ConfigDict(extra="forbid")

    netsnap_version: str
    rules_version: str
    hosts: list[HostSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    not_evaluated: list[NotEvaluated] = Field(default_factory=list)
    rule_runs: list[RuleRun] = Field(default_factory=list)
    flows: list[FlowVerdict] = Field(default_factory=list)
    traces: list[TraceResult] = Field(default_factory=list)
    verdict: str = ""
