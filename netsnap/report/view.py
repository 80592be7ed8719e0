"""What every renderer shows, computed once: ordering, counts, verdict, filters, empty states.

Renderers (text, JSON, HTML) read an `AnalysisResult` only through these helpers so the three
outputs agree on order and wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from netsnap.engine.causes import CAUSES
from netsnap.engine.findings import AnalysisResult, Finding, FlowVerdict, RuleRun, Severity

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
    partly = {r.rule for r in result.rule_runs if r.main and r.status != "not-evaluated"}
    out += [f"{n.rule} could not run on {', '.join(n.hosts)}" for n in result.not_evaluated
            if n.rule in partly and n.hosts]
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
    not_applicable: int = 0

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
        if self.not_applicable:
            tail += f"; {self.not_applicable} not applicable (no overlay on the hosts)"
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
                ran=sum(1 for r in runs if r.status in ("fired", "passed")),
                fired=sum(1 for r in runs if r.status == "fired"),
                not_evaluated=sum(1 for r in runs if r.status == "not-evaluated"),
                not_applicable=sum(1 for r in runs if r.status == "not-applicable"),
            )
        )
    return states


# ---------------------------------------------------------------------------------------- the summary

def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class SummaryItem:
    """One cause in the plain ranked summary: what breaks, where, and the fix to paste first."""

    number: int  # the finding number of its first finding (findings are numbered 1..n in the one order)
    cause: str
    severity: Severity
    sentence: str  # "The host firewall rejects or drops traffic the cluster needs (on master)"
    breaks: list[str]  # the traffic it breaks ("master → node1 pods (172.18.5.0/24)")
    anchors: list[str]  # its findings' anchors
    fix_note: str  # a comment introducing the first command ("# in /etc/default/flanneld (line 1):"), or ""
    fix: list[str]  # the commands (comment lines left to the findings), at most MAX_SUMMARY_COMMANDS


MAX_SUMMARY_COMMANDS = 3


def is_comment(line: str) -> bool:
    """A remediation line that is a comment for the reader, not a command to paste."""
    return line.lstrip().startswith("#")


def summary_items(findings: Sequence[Finding]) -> list[SummaryItem]:
    """One item per cause of the errors and warnings, in the one finding order (the most traffic broken first)."""
    by_cause: dict[str, list[tuple[int, Finding]]] = {}
    for n, f in enumerate(findings, start=1):
        if f.severity in (Severity.ERROR, Severity.WARNING):
            by_cause.setdefault(f.cause, []).append((n, f))
    items: list[SummaryItem] = []
    for cause, numbered in by_cause.items():
        fs = [f for _, f in numbered]
        hosts = list(dict.fromkeys(h for f in fs for h in f.hosts))
        known = CAUSES.get(cause)
        what = known.breaks if known is not None else fs[0].title
        on = f" (on {', '.join(hosts[:3])}{', …' if len(hosts) > 3 else ''})" if hosts else ""
        commands = list(dict.fromkeys(line for f in fs for line in f.remediation if not is_comment(line)))
        first = fs[0].remediation
        note = first[0] if first and is_comment(first[0]) and first[0].rstrip().endswith(":") else ""
        items.append(SummaryItem(
            number=numbered[0][0], cause=cause, severity=max((f.severity for f in fs), key=lambda s: s.rank),
            sentence=what[:1].upper() + what[1:] + on,
            breaks=list(dict.fromkeys(f.path for f in fs if f.path))[:3],
            anchors=[f.anchor for f in fs], fix_note=note, fix=commands[:MAX_SUMMARY_COMMANDS],
        ))
    return items


def headline(result: AnalysisResult) -> str:
    """The first sentence a reader sees, in plain words (no cause slugs): how many problems break which
    traffic, or why this is (not) an all-clear."""
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    warnings = [f for f in result.findings if f.severity is Severity.WARNING]
    notes = len(result.findings) - len(errors) - len(warnings)
    if errors:
        causes = list(dict.fromkeys(f.cause for f in errors))
        paths = list(dict.fromkeys(f.path for f in errors if f.path))
        hosts = list(dict.fromkeys(h for f in errors for h in f.hosts))
        where = paths[0] if len(paths) == 1 else (
            "traffic between " + _and(hosts) if len(hosts) > 1 else f"traffic to and from {hosts[0]}")
        extra = f"; {_plural(len(warnings), 'warning')} to review" if warnings else ""
        verb = "breaks" if len(causes) == 1 else "break"
        return f"{_plural(len(causes), 'problem')} {verb} {where}{extra}."
    blockers = not_cleared(result)
    if warnings:
        tail = f"; and {blockers[0]}" if blockers else ""
        return f"No blocking problem proven; {_plural(len(warnings), 'warning')} to review{tail}."
    passed = sum(1 for r in result.rule_runs if r.status == "passed")
    if blockers:
        more = f" (and {len(blockers) - 1} more)" if len(blockers) > 1 else ""
        return f"NOT an all-clear: no problem found, but {blockers[0]}{more}."
    undecided = [f for f in result.flows if f.verdict == "unknown"]
    if undecided:
        return (f"No problem found ({_plural(passed, 'check')} passed), but {_plural(len(undecided), 'required path')}"
                f" could not be decided.")
    tail = f"; {_plural(notes, 'note')}" if notes else ""
    ne = f"; {len(result.not_evaluated)} not evaluated" if result.not_evaluated else ""
    return f"No problem found: {_plural(passed, 'check')} passed{ne}{tail}."


def _and(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def state_counts(result: AnalysisResult) -> dict[str, int]:
    """The tiles, in their fixed order: severities, then rules not evaluated and not applicable."""
    counts = severity_counts(result)
    counts["not applicable"] = sum(1 for r in result.rule_runs if r.status == "not-applicable")
    return counts


def not_applicable(rule_runs: Iterable[RuleRun]) -> list[tuple[str, str, str]]:
    """(rule, title, hosts) of rules that do not apply: the hosts run no overlay (not the same as not evaluated)."""
    return [(r.rule, r.title, ", ".join(r.not_applicable)) for r in rule_runs if r.not_applicable]


@dataclass(frozen=True)
class FlowRow:
    """A required flow as the summary lists it."""

    flow: FlowVerdict
    state: str  # "blocked" | "undecided" | "reachable"
    blocked_at: list[str] = field(default_factory=list)  # the blocking steps, in path order
    numbers: list[int] = field(default_factory=list)  # the findings that explain it


def flow_rows(result: AnalysisResult) -> list[FlowRow]:
    """Every required flow, blocked first, then undecided, then reachable (each group in snapshot order)."""
    number = {f.anchor: n for n, f in enumerate(result.findings, start=1)}
    rows = []
    for fl in result.flows:
        state = {"unreachable": "blocked", "unknown": "undecided"}.get(fl.verdict, "reachable")
        at = [f"{s.host}: {s.stage}: {s.detail}" for s in fl.blockers]
        if state == "undecided":
            at = [d.reason for d in fl.doubts] or [fl.reason]
        rows.append(FlowRow(fl, state, at, sorted({number[a] for a in fl.explained_by if a in number})))
    order = {"blocked": 0, "undecided": 1, "reachable": 2}
    return sorted(rows, key=lambda r: order[r.state])


# ---------------------------------------------------------------------------------------- the command line

_SECRET = re.compile(r"(password|passwd|secret|token|private[-_]?key|api[-_]?key)", re.I)
_URL_CRED = re.compile(r"(://[^/:@\s]*:)[^/@\s]+@")
REDACTED = "REDACTED"  # no shell metacharacters: shlex.join leaves it unquoted


def redact_argv(argv: Sequence[str]) -> list[str]:
    """The command line with secrets replaced (`--token X`, `--token=X`, `password=X`, URL credentials), as the
    report header shows it."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if _SECRET.search(name) and eq:
            out.append(f"{name}={REDACTED}")
            continue
        if arg.startswith("-") and _SECRET.search(arg):
            hide_next = True
        out.append(_URL_CRED.sub(lambda m: m.group(1) + REDACTED + "@", arg))
    return out
