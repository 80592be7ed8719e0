"""What every renderer shows, computed once: ordering, counts, verdict, filters, empty states.

Renderers (text, JSON, HTML) read an `AnalysisResult` only through these helpers so the three
outputs agree on order and wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netsnap.engine.findings import AnalysisResult, Finding, RuleRun, Severity

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


def _matches(f: Finding, tokens: Sequence[str]) -> bool:
    wanted = {t.strip().lower() for t in tokens if t.strip()}
    return f.rule.lower() in wanted or f.cause.lower() in wanted


def split_tokens(values: Iterable[str]) -> list[str]:
    """`--only NS201,iptables-reject --only NS301` -> ["NS201", "iptables-reject", "NS301"]."""
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def filter_result(
    result: AnalysisResult,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    min_severity: Severity | None = None,
) -> AnalysisResult:
    """A copy of `result` keeping findings selected by rule ID or cause and at or above `min_severity`.

    Rule runs and "not evaluated" entries are filtered by rule ID (and cause where known) the same way.
    """
    causes = {r.rule: r.cause for r in result.rule_runs}

    def keep_rule(rule: str) -> bool:
        cause = causes.get(rule, "")
        names = {rule.lower(), cause.lower()}
        if only and not names & {t.lower() for t in only}:
            return False
        return not (skip and names & {t.lower() for t in skip})

    findings = [f for f in result.findings if (not only or _matches(f, only)) and not (skip and _matches(f, skip))]
    if min_severity is not None:
        findings = [f for f in findings if f.severity.rank >= min_severity.rank]
    changed = len(findings) != len(result.findings)
    return result.model_copy(
        update={
            "verdict": "" if changed else result.verdict,  # the engine's sentence described other findings
            "findings": findings,
            "not_evaluated": [n for n in result.not_evaluated if keep_rule(n.rule)],
            "rule_runs": [r for r in result.rule_runs if keep_rule(r.rule)],
        }
    )


def exit_code(result: AnalysisResult, fail_on: str) -> int:
    """0 when nothing is at or above `fail_on` ("none" never fails), else 1."""
    if fail_on == "none":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in result.findings) else 0


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
