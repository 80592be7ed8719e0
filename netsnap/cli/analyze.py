"""`netsnap analyze BUNDLE...`: load the bundles, build the reachability graph once, run the rules, print
or write the report (text, JSON or HTML; the format follows the -o suffix).

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error or unreadable input.
"""

from __future__ import annotations

import os
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from netsnap.cli.command import NetsnapCommand, error_line, invoked_with
from netsnap.cli.formats import Format, UsageProblem, output_format
from netsnap.cli.progress import Stages, input_size

if TYPE_CHECKING:
    from netsnap.diff.model import DiffResult
    from netsnap.engine.findings import AnalysisResult
    from netsnap.graph.reachability import ReachabilityGraph
    from netsnap.model import Snapshot
    from netsnap.secgroups.model import SecurityGroups


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NONE = "none"


class MinSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def load(paths: list[str], members: dict[str, dict[str, str]] | None) -> Snapshot:
    """The bundles as a Snapshot (netsnap.cli.common.read_snapshot: one-line InputError on bad input)."""
    from netsnap.cli.common import read_snapshot

    return read_snapshot(paths, members)


def attach_security_groups(snapshot: Snapshot, specs: list[str]) -> SecurityGroups | None:
    """`--security-group HOST=FILE`... -> netsnap.secgroups.SecurityGroups (None when none given)."""
    if not specs:
        return None
    from netsnap.cli.common import InputError, current_limits
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


def build_graph(snapshot: Snapshot, groups: SecurityGroups | None) -> ReachabilityGraph:
    """The snapshot's reachability graph, built once: the rules read it and the topology is drawn from it."""
    from netsnap.graph.reachability import ReachabilityGraph

    return ReachabilityGraph(snapshot, groups)


def analyse(snapshot: Snapshot, security_groups: SecurityGroups | None, rules_dirs: list[str], only: list[str],
            skip: list[str], graph: ReachabilityGraph | None = None) -> AnalysisResult:
    """Run the rules (netsnap.engine.run) on `graph`; a broken extra rule file becomes an InputError."""
    from netsnap.cli.common import InputError
    from netsnap.engine.discovery import RuleLoadError
    from netsnap.engine.run import run_rules
    from netsnap.engine.select import SelectorError

    try:
        return run_rules(snapshot, security_groups=security_groups, rules_dirs=rules_dirs, only=only, skip=skip,
                         graph=graph)
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


def compare_with_baseline(paths: list[str], snapshot: Snapshot, result: AnalysisResult) -> DiffResult:
    """`--baseline GOOD`: diff the known-good bundles against the analysed ones (netsnap.diff)."""
    from netsnap.cli.diff import label_good_side
    from netsnap.diff.compare import diff_snapshots

    good = label_good_side(load(paths, None), snapshot)
    good_result = analyse(good, None, [], [], [])
    return diff_snapshots(good.hosts, snapshot.hosts, good_result.findings, result.findings, result.flows)


def generated_at() -> str:
    """The generation time for the report header: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now."""
    from datetime import UTC, datetime

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def command_line(argv: list[str]) -> str:
    """The command as typed, for the report header, with secrets in it redacted."""
    from netsnap.report.view import redact_argv

    return shlex.join(["netsnap", *redact_argv(argv)])


def _fail(message: str) -> NoReturn:
    typer.echo(error_line(message), err=True)
    raise typer.Exit(code=2)


def _internal(exc: Exception) -> NoReturn:
    if isinstance(exc, MemoryError):
        from netsnap.cli.common import memory_message

        _fail(memory_message())
    first = (str(exc).splitlines() or [""])[0]
    _fail(f"internal error: {type(exc).__name__}: {first} (--debug shows the traceback)")


def _loaded(snapshot: Snapshot, sizes: dict[str, int]) -> str:
    """What the reading stage did, per host: bytes on disk and sources understood."""
    from netsnap.bundle.members import human_size

    parts = []
    for h in snapshot.hosts:
        ok = sum(1 for s in h.sources.values() if s.understood)
        size = sizes.get(h.bundle.path)
        parts.append(f"{h.name} {human_size(size) + ', ' if size is not None else ''}"
                     f"{ok} of {len(h.sources)} sources understood")
    return f"read {len(snapshot.hosts)} bundle(s): " + "; ".join(parts)


def analyze(
    bundles: Annotated[
        list[str], typer.Argument(metavar="BUNDLE", help="Collector tarballs or directories, sosreports, "
                                                         "folders of pasted files.")
    ],
    security_group: Annotated[
        list[str] | None,
        typer.Option("--security-group", metavar="HOST=FILE", help="A security-group export for a host (repeat)."),
    ] = None,
    fmt: Annotated[
        Format | None, typer.Option("--format", "-f", metavar="text|json|html",
                                    help="Output format (default: from the -o suffix, else text).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE (.html, .json, "
                                  ".txt).")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", metavar="error|warning|info|none",
                             help="Exit 1 when a finding is at or above this severity.")
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
        bool, typer.Option("--no-security-groups", metavar="", help="The hosts have no cloud security groups (bare "
                           "metal, VMware, libvirt): nothing is checked there.")
    ] = False,
    min_severity: Annotated[
        MinSeverity | None, typer.Option("--min-severity", metavar="error|warning|info",
                                         help="Hide findings below this severity.")
    ] = None,
    rules_dir: Annotated[
        list[str] | None, typer.Option("--rules-dir", metavar="DIR", help="Extra directory of rule files (repeat).")
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option("--baseline", metavar="GOOD", help="Known-good bundle to compare with (repeat); the "
                     "differences that matter are summarised at the top."),
    ] = None,
    full_appendix: Annotated[
        bool, typer.Option("--full-appendix", metavar="", help="HTML: embed every inventory row and whole raw files "
                           "(by default capped so the report stays small enough to attach).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress or hints on stderr.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", metavar="", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    """Find why traffic between the hosts breaks: ranked causes with evidence, why and the fix.

    \b
    Examples:
      netsnap analyze master.tgz node1.tgz
      netsnap analyze master.tgz node1.tgz -o report.html
      netsnap analyze master.tgz node1.tgz --security-group master=sg.json
      netsnap analyze bad.tgz node1.tgz --baseline good.tgz -o report.html
      netsnap analyze sosreport-node1.tar.xz --format json > result.json

    Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it, a required path blocked with no
    named cause, or a main check that could not run (never an all-clear then); 2 usage error or unreadable
    input.
    """
    from netsnap.cli.common import InputError

    try:
        fmt = output_format(fmt, output)
    except UsageProblem as exc:
        _fail(str(exc))
    specs = list(security_group or [])
    with Stages(quiet=quiet, machine_output=fmt is Format.JSON) as stages:
        try:
            result, snapshot, graph, raws, diff = _run(bundles, fmt, specs, no_security_groups, rules_dir, only,
                                                       skip, baseline, stages)
        except InputError as exc:
            _fail(str(exc))
        except Exception as exc:
            if debug:
                raise
            _internal(exc)
        from netsnap.engine.findings import Severity
        from netsnap.report.view import exit_code, filter_result

        result = filter_result(result, min_severity=Severity(min_severity.value) if min_severity else None)
        code = exit_code(result, fail_on.value)
        try:
            if fmt is Format.TEXT and output is None:
                stages.close()
                _print_text(result, diff)
                raise typer.Exit(code=code)
            with stages.stage(f"rendering the {fmt.value} report") as st:
                document = _document(fmt, result, snapshot, graph, raws, specs, diff, full_appendix)
                st.done(f"rendered the {fmt.value} report")
        except typer.Exit:
            raise
        except Exception as exc:
            if debug:
                raise
            _internal(exc)
        if output is None:
            sys.stdout.write(document)
            raise typer.Exit(code=code)
        with stages.stage(f"writing {output}") as st:
            try:
                output.write_text(document, encoding="utf-8")
            except OSError as exc:
                _fail(f"{output}: cannot write: {exc.strerror or exc}")
            from netsnap.bundle.members import human_size

            st.done(f"wrote {output} ({human_size(len(document.encode('utf-8')))})")
    if not quiet and not stages.enabled:
        typer.echo(f"report written to {output}", err=True)
    raise typer.Exit(code=code)


def _run(bundles: list[str], fmt: Format, specs: list[str], no_security_groups: bool, rules_dir: list[str] | None,
         only: list[str] | None, skip: list[str] | None, baseline: list[str] | None, stages: Stages
         ) -> tuple[AnalysisResult, Snapshot, ReachabilityGraph, dict[str, dict[str, str]], DiffResult | None]:
    """Load, build the graph, run the rules and the baseline comparison, each a stage of the progress display."""
    from netsnap.bundle.members import human_size
    from netsnap.engine.select import tokens as split_tokens

    sizes = {p: input_size(p) for p in bundles} if stages.enabled else {}
    raws: dict[str, dict[str, str]] = {}
    total = f", {human_size(sum(sizes.values()))}" if sizes else ""
    with stages.stage(f"reading {len(bundles)} bundle(s){total}") as st:
        snapshot = load(bundles, raws if fmt is Format.HTML else None)
        groups = attach_security_groups(snapshot, specs)
        if no_security_groups:
            from netsnap.secgroups.model import SecurityGroups

            groups = groups.model_copy(update={"default": "open"}) if groups is not None else \
                SecurityGroups(default="open")
        st.done(_loaded(snapshot, sizes))
    with stages.stage("tracing the flows the cluster needs") as st:
        graph = build_graph(snapshot, groups)
        flows = graph.flows()
        blocked = sum(1 for r in flows if r.blocked)
        st.done(f"traced {len(flows)} required flows: {blocked} blocked")
    with stages.stage("running the rules") as st:
        result = analyse(snapshot, groups, list(rules_dir or []), split_tokens(only or []), split_tokens(skip or []),
                         graph)
        st.done(f"ran {len(result.rule_runs)} rules: {len(result.findings)} findings")
    diff = None
    if baseline:
        with stages.stage(f"comparing with the baseline {', '.join(baseline)}") as st:
            diff = compare_with_baseline(list(baseline), snapshot, result)
            st.done(f"compared with {', '.join(baseline)}: {len(diff.differences)} differences")
    return result, snapshot, graph, raws, diff


def _print_text(result: AnalysisResult, diff: DiffResult | None) -> None:
    from rich.console import Console

    from netsnap.report.text import render_text

    render_text(result, Console(highlight=False), comparison=diff)


def _document(fmt: Format, result: AnalysisResult, snapshot: Snapshot, graph: ReachabilityGraph,
              raws: dict[str, dict[str, str]], specs: list[str], diff: DiffResult | None, full_appendix: bool) -> str:
    """The report as text for a file or a pipe (text, JSON or HTML)."""
    if fmt is Format.TEXT:
        import io

        from rich.console import Console

        from netsnap.report.text import render_text

        buffer = io.StringIO()
        render_text(result, Console(file=buffer, width=100, force_terminal=False, no_color=True, highlight=False),
                    comparison=diff)
        return buffer.getvalue()
    if fmt is Format.JSON:
        return render_json(result)
    from netsnap.report.html import ReportContext, render_html

    return render_html(result, snapshot, raw_files=raws, security_groups=security_group_labels(specs, snapshot),
                       comparison=diff, graph=graph,
                       context=ReportContext(generated_at=generated_at(), command=command_line(invoked_with()),
                                             full_appendix=full_appendix))


def render_json(result: AnalysisResult) -> str:
    """The JSON document (netsnap.report.json_output)."""
    from netsnap.report.json_output import render_json as render

    return render(result)


def register(app: typer.Typer) -> None:
    app.command("analyze", cls=NetsnapCommand)(analyze)
