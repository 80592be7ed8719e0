"""What every renderer shows, computed once: ordering, counts, verdict, filters, empty states.

Renderers (text, JSON, HTML) read an `AnalysisResult` only through these helpers so the three
outputs agree on order and wording.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netsnap.engine.findings import AnalysisResult, RuleRun, Severity

SEVERITY_ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)
FAIL_ON_CHOICES: tuple[str, ...] = ("error", "warning", "info", "none")


def severity_counts(result: AnalysisResult) -> dict[str, int]:
    """Counts in the fixed order error, warning, info, not evaluated."""
    counts = {s.value: 0 for s in SEVERITY_ORDER}
    for f in result.findings:
        counts[f.severity.value] += 1
    counts["not evaluated"] = len(result.not_evaluated)
    return counts


def verdict(result: AnalysisResult) -> str:
    """One sentence: the engine's verdict when it gave one, else one built from the findings."""
    if result.verdict:
        return result.verdict
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if errors:
        causes = sorted({f.cause for f in errors})
        paths = sorted({f.path for f in errors if f.path})
        noun = "cause" if len(causes) == 1 else "causes"
        verb = "blocks" if len(causes) == 1 else "block"
        if len(paths) == 1:
            return f"{len(causes)} {noun} {verb} {paths[0]} traffic"
        return f"{len(causes)} {noun} {verb} traffic between the analysed hosts"
    warnings = [f for f in result.findings if f.severity is Severity.WARNING]
    if warnings:
        return f"No blocking cause found; {len(warnings)} warning(s) to review"
    ran = sum(1 for r in result.rule_runs if r.status != "not-evaluated")
    parts = [f"{ran} checks ran"]
    if result.findings:
        parts.append(f"{len(result.findings)} note(s)")
    if result.not_evaluated:
        parts.append(f"{len(result.not_evaluated)} not evaluated")
    return f"No problem found ({', '.join(parts)})"


def filter_result(result: AnalysisResult, *, min_severity: Severity | None = None) -> AnalysisResult:
    """A copy of `result` without the findings below `min_severity`. (Rule selection is the engine's one
    selector, netsnap.engine.select: `--only`/`--skip` choose which rules run, never which results show.)"""
    if min_severity is None:
        return result
    findings = [f for f in result.findings if f.severity.rank >= min_severity.rank]
    if len(findings) == len(result.findings):
        return result
    return result.model_copy(update={"verdict": "", "findings": findings})  # the sentence described the others


def not_cleared(result: AnalysisResult) -> list[str]:
    """Why the result is no all-clear although no finding says so: a main check that could not run, a
    required path blocked by something no finding names."""
    out = [f"{r.rule} could not run" for r in result.rule_runs if r.main and r.status == "not-evaluated"]
    out += [f"{f.label} is blocked ({', '.join(f.unexplained)}) and no finding names it"
            for f in result.flows if f.verdict == "unreachable" and f.unexplained]
    return out


def exit_code(result: AnalysisResult, fail_on: str) -> int:
    """1 when a finding is at or above `fail_on`, or when the result is not cleared (`not_cleared`); 0
    otherwise; "none" never fails."""
    if fail_on == "none":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in result.findings) or not_cleared(result) else 0


@dataclass(frozen=True)
class CategoryState:
    """How one rule category fared: the explicit empty state ("routing: 9 checks ran, nothing found")."""

    category: str
    ran: int
    fired: int
    not_evaluated: int

    @property
    def sentence(self) -> str:
        checks = "check" if self.ran == 1 else "checks"
        if self.fired:
            found = f"{self.fired} fired"
        elif self.ran:
            found = "nothing found"
        else:
            found = "nothing could run"
        tail = f"; {self.not_evaluated} not evaluated" if self.not_evaluated else ""
        return f"{self.category}: {self.ran} {checks} ran, {found}{tail}"


def category_states(rule_runs: Iterable[RuleRun]) -> list[CategoryState]:
    by_cat: dict[str, list[RuleRun]] = {}
    for run in rule_runs:
        by_cat.setdefault(run.category, []).append(run)
    states = []
    for cat in sorted(by_cat):
        runs = by_cat[cat]
        states.append(
            CategoryState(
                category=cat,
                ran=sum(1 for r in runs if r.status != "not-evaluated"),
                fired=sum(1 for r in runs if r.status == "fired"),
                not_evaluated=sum(1 for r in runs if r.status == "not-evaluated"),
            )
        )
    return states
