"""The JSON output of `netsnap analyze`: a stable model of its own, with a JSON Schema.

The engine's models may grow; this one changes only with `format`. `netsnap schema --output analyze`
prints `AnalyzeOutput.model_json_schema()`.
"""

from __future__ import annotations

import json
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from netsnap.engine.findings import AnalysisResult, FlowVerdict
from netsnap.report.view import category_states, severity_counts, verdict
from netsnap.trace.result import TraceResult

FORMAT: Literal["netsnap-analyze/1"] = "netsnap-analyze/1"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceOut(_Out):
    host: str
    file: str
    line: int = Field(description="1-based line in the bundle file; 0 means the whole file")
    text: str


class FindingOut(_Out):
    rule: str = Field(description="Rule ID, e.g. NS201")
    cause: str = Field(description="Cause from the fixed vocabulary, e.g. iptables-reject")
    severity: Literal["error", "warning", "info"]
    confidence: Literal["high", "medium", "low"]
    hosts: list[str]
    title: str
    explanation: str
    evidence: list[EvidenceOut]
    remediation: list[str]
    references: list[str]
    path: str | None = Field(description="The traffic this cause breaks, e.g. 'master → node1 pods'")
    impact: int
    anchor: str = Field(description="Stable anchor of this finding in the HTML report")
    checks: list[str] = Field(default_factory=list, description="The trace checks (flows' blocking steps) it explains")
    assumptions: list[str] = Field(default_factory=list, description="What the finding took as true without evidence")


class NotEvaluatedOut(_Out):
    rule: str
    title: str
    hosts: list[str]
    missing: list[str]
    reason: str


class HostOut(_Out):
    name: str
    bundle: str
    kind: str
    sha256: str | None
    collector_version: str | None
    collected_at: str | None
    sources_ok: int
    sources_missing: list[str]
    sources_partial: list[str] = Field(default_factory=list, description="Read, but understood only partly")
    unparsed_lines: int


class RuleRunOut(_Out):
    rule: str
    title: str
    cause: str
    category: str
    status: str = Field(description="fired, passed, not-evaluated or not-applicable")
    hosts: list[str]


class CategoryOut(_Out):
    category: str
    ran: int
    fired: int
    not_evaluated: int
    summary: str


class SummaryOut(_Out):
    error: int
    warning: int
    info: int
    not_evaluated: int
    categories: list[CategoryOut]


class AnalyzeOutput(_Out):
    """What `netsnap analyze --format json` prints."""

    format: Literal["netsnap-analyze/1"] = FORMAT
    netsnap_version: str
    rules_version: str
    verdict: str
    summary: SummaryOut
    hosts: list[HostOut]
    findings: list[FindingOut] = Field(description="Sorted by severity, then impact, then rule ID")
    not_evaluated: list[NotEvaluatedOut]
    rule_runs: list[RuleRunOut]
    flows: list[FlowVerdict] = Field(description="The flows the cluster needs, each with its verdict, every check "
                                                  "on its path that blocks it, doubts, assumptions and the findings "
                                                  "that explain it")
    traces: list[TraceResult]
    notes: list[str] = Field(default_factory=list)


OutT = TypeVar("OutT", bound=BaseModel)


def _pick(cls: type[OutT], obj: BaseModel) -> OutT:
    """Copy the fields `cls` knows from an engine model (which may grow new fields) into `cls`."""
    data = obj.model_dump()
    return cls.model_validate({k: data[k] for k in cls.model_fields if k in data})


def build_output(result: AnalysisResult) -> AnalyzeOutput:
    counts = severity_counts(result)
    return AnalyzeOutput(
        netsnap_version=result.netsnap_version,
        rules_version=result.rules_version,
        verdict=verdict(result),
        summary=SummaryOut(
            error=counts["error"],
            warning=counts["warning"],
            info=counts["info"],
            not_evaluated=counts["not evaluated"],
            categories=[
                CategoryOut(
                    category=c.category, ran=c.ran, fired=c.fired, not_evaluated=c.not_evaluated, summary=c.sentence
                )
                for c in category_states(result.rule_runs)
            ],
        ),
        hosts=[_pick(HostOut, h) for h in result.hosts],
        findings=[
            FindingOut(
                rule=f.rule,
                cause=f.cause,
                severity=f.severity.value,
                confidence=f.confidence.value,
                hosts=list(f.hosts),
                title=f.title,
                explanation=f.explanation,
                evidence=[_pick(EvidenceOut, e) for e in f.evidence],
                remediation=list(f.remediation),
                references=list(f.references),
                path=f.path,
                impact=f.impact,
                anchor=f.anchor,
                checks=list(f.checks),
                assumptions=list(f.assumptions),
            )
            for f in list(result.findings)
        ],
        not_evaluated=[
            _pick(NotEvaluatedOut, n) for n in sorted(result.not_evaluated, key=lambda n: n.rule)
        ],
        rule_runs=[_pick(RuleRunOut, r) for r in sorted(result.rule_runs, key=lambda r: r.rule)],
        flows=list(result.flows),
        traces=list(result.traces),
    )


def render_json(result: AnalysisResult) -> str:
    """The JSON document, keys sorted, two-space indent, newline-terminated."""
    data = build_output(result).model_dump(mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def analyze_schema() -> dict[str, object]:
    return AnalyzeOutput.model_json_schema()
