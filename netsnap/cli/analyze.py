"""`netsnap analyze BUNDLE...`: load the bundles, run the rules, print or write the report.

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error or unreadable input.
"""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from netsnap.cli.common import InputError, current_limits, memory_message, one_line, read_snapshot
from netsnap.diff.model import DiffResult
from netsnap.engine.findings import AnalysisResult, Severity
from netsnap.engine.select import tokens as split_tokens
from netsnap.model import Snapshot
from netsnap.report.html import render_html
from netsnap.report.json_output import render_json
from netsnap.report.text import render_text
from netsnap.report.view import exit_code, filter_result
from netsnap.secgroups.model import SecurityGroups


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NONE = "none"


class MinSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def attach_security_groups(snapshot: Snapshot, specs: list[str]) -> SecurityGroups | None:
    """`--security-group HOST=FILE`... -> netsnap.secgroups.SecurityGroups (None when none given)."""
    if not specs:
        return None
    from netsnap.secgroups import SecGroupError, attach

    groups: SecurityGroups | None = None
    for spec in specs:
        try:
            groups = attach(snapshot, spec, groups, current_limits())
        except SecGroupError as exc:
            raise InputError(str(exc).splitlines()[0]) from None
        except OSError as exc:
            raise InputError(f"{spec}: {exc.strerror or exc}") from None
    return groups


def analyse(snapshot: Snapshot, security_groups: SecurityGroups | None, rules_dirs: list[str], only: list[str],
            skip: list[str]) -> AnalysisResult:
    """Run the rules (netsnap.engine.run); a broken extra rule file becomes an InputError."""
    from netsnap.engine.discovery import RuleLoadError
    from netsnap.engine.run import run_rules
    from netsnap.engine.select import SelectorError

    try:
        return run_rules(snapshot, security_groups=security_groups, rules_dirs=rules_dirs, only=only, skip=skip)
    except (RuleLoadError, SelectorError) as exc:
        raise InputError(str(exc).splitlines()[0]) from None


def security_group_labels(specs: list[str], snapshot: Snapshot) -> dict[str, str]:
    """Host name -> the export file name(s) given for it, for the topology picture."""
    labels: dict[str, str] = {}
    for spec in specs:
        key, _, path = spec.partition("=")
        host = snapshot.host(key.strip())
        if host is not None:
            name = Path(path.strip()).name
            labels[host.name] = f"{labels[host.name]}, {name}" if host.name in labels else name
    return labels


def _fail(message: str) -> typer.Exit:
    typer.echo(f"netsnap analyze: {one_line(message)}", err=True)
    return typer.Exit(code=2)


def compare_with_baseline(paths: list[str], snapshot: Snapshot, result: AnalysisResult) -> DiffResult:
    """`--baseline GOOD`: diff the known-good bundles against the analysed ones (netsnap.diff)."""
    from netsnap.diff.compare import diff_snapshots

    good = read_snapshot(paths)
    good_result = analyse(good, None, [], [], [])

    return diff_snapshots(good.hosts, snapshot.hosts, good_result.findings, result.findings, result.flows)


def _print_comparison(diff: DiffResult, console: Console) -> None:
    pairs = ", ".join(f"{b} vs known-good {g}" for g, b in diff.pairs)
    console.print(f"\nCompared with a known-good host ({pairs}): {len(diff.differences)} meaningful differences",
                  markup=False)
    for n, d in enumerate(diff.differences[:10], start=1):
        good = d.good if d.good is not None else "(absent)"
        bad = d.bad if d.bad is not None else "(absent)"
        console.print(f"{n:>3}. [{d.kind}] {d.key}: good {good} | bad {bad}", markup=False)
        if d.explanation:
            console.print(f"       {d.explanation}", markup=False)


def _document(fmt: Format, result: AnalysisResult, snapshot: Snapshot, raws: dict[str, dict[str, str]],
              specs: list[str], diff: DiffResult | None) -> str:
    """The report as text for a file or a pipe (text, JSON or HTML)."""
    if fmt is Format.TEXT:
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, force_terminal=False, no_color=True)
        render_text(result, console)
        if diff is not None:
            _print_comparison(diff, console)
        return buffer.getvalue()
    if fmt is Format.JSON:
        return render_json(result)
    from netsnap.diff.html import render_diff_section

    return render_html(result, snapshot, raw_files=raws, security_groups=security_group_labels(specs, snapshot),
                       comparison=render_diff_section(diff) if diff is not None else None)


def _internal(exc: Exception) -> typer.Exit:
    if isinstance(exc, MemoryError):
        return _fail(memory_message())
    first = (str(exc).splitlines() or [""])[0]
    return _fail(f"internal error: {type(exc).__name__}: {first} (--debug shows the traceback)")


def analyze(
    bundles: Annotated[
        list[str], typer.Argument(metavar="BUNDLE", help="Bundles: collector tarballs or directories, sosreports.")
    ],
    security_group: Annotated[
        list[str] | None,
        typer.Option("--security-group", metavar="HOST=FILE", help="A security-group export for a host (repeat)."),
    ] = None,
    fmt: Annotated[
        Format | None, typer.Option("--format", "-f", help="Output format (default: from -o suffix, else text).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file.")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = FailOn.WARNING,
    only: Annotated[
        list[str] | None, typer.Option("--only", metavar="RULE", help="Rules to run: IDs, names, causes or "
                                       "categories (commas ok).")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", metavar="RULE", help="Rules not to run: IDs, names, causes or "
                                       "categories (commas ok).")
    ] = None,
    no_security_groups: Annotated[
        bool, typer.Option("--no-security-groups", help="The hosts have no cloud security groups (bare metal, "
                           "VMware, libvirt): nothing is checked there.")
    ] = False,
    min_severity: Annotated[
        MinSeverity | None, typer.Option("--min-severity", help="Hide findings below this severity.")
    ] = None,
    rules_dir: Annotated[
        list[str] | None, typer.Option("--rules-dir", metavar="DIR", help="Extra directory of rule files (repeat).")
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option("--baseline", metavar="GOOD", help="Known-good bundle to compare with (repeat); adds a "
                     "'compared with' section."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or hints on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
) -> None:
    """Find why traffic between the hosts breaks: ranked causes with evidence, why and fix.

    Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it, a required path blocked with no
    named cause, or a main check that could not run (never an all-clear then); 2 usage error or unreadable
    input.
    """
    if fmt is None:
        suffix = output.suffix.lower() if output else ""
        fmt = {".html": Format.HTML, ".htm": Format.HTML, ".json": Format.JSON}.get(suffix, Format.TEXT)
    if fmt is Format.HTML and output is None:
        raise _fail("--format html needs -o FILE")
    specs = list(security_group or [])
    only_t, skip_t = split_tokens(only or []), split_tokens(skip or [])
    err = Console(stderr=True, quiet=quiet or not sys.stderr.isatty())
    try:
        with err.status(f"loading {len(bundles)} bundle(s)"):
            raws: dict[str, dict[str, str]] = {}
            snapshot = read_snapshot(bundles, raws if fmt is Format.HTML else None)
            groups = attach_security_groups(snapshot, specs)
            if no_security_groups:
                groups = groups.model_copy(update={"default": "open"}) if groups is not None else \
                    SecurityGroups(default="open")
        with err.status("running rules"):
            result = analyse(snapshot, groups, list(rules_dir or []), only_t, skip_t)
        diff = None
        if baseline:
            with err.status("comparing with the baseline"):
                diff = compare_with_baseline(list(baseline), snapshot, result)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:
        if debug:
            raise
        raise _internal(exc) from None
    result = filter_result(result, min_severity=Severity(min_severity.value) if min_severity else None)
    try:
        if fmt is Format.TEXT and output is None:
            console = Console()
            render_text(result, console)
            if diff is not None:
                _print_comparison(diff, console)
            raise typer.Exit(code=exit_code(result, fail_on.value))
        document = _document(fmt, result, snapshot, raws, specs, diff)
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            raise
        raise _internal(exc) from None
    if output is None:
        sys.stdout.write(document)
    else:
        try:
            output.write_text(document, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{output}: cannot write: {exc.strerror or exc}") from None
        if not quiet:
            typer.echo(f"report written to {output}", err=True)
    raise typer.Exit(code=exit_code(result, fail_on.value))


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
