"""The rich text report: content, no colour off a terminal, bundle text never read as markup, and at 80
columns: no line break inside a fix command, evidence line or URL, no squashed table header, no border
characters around text, prose not bold."""

from __future__ import annotations

import io
import re

from rich.console import Console

from netsnap.cli.common import read_snapshot
from netsnap.engine.run import run_rules
from netsnap.report.text import legend, render_text, render_trace
from netsnap.secgroups import attach
from netsnap.trace.engine import TraceEngine
from tests.report import builders

BOX = set("│╭╮╰╯┃┏┓┗┛")


def _render(payload: str = "", *, terminal: bool = False, width: int = 140) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=terminal, color_system="standard" if terminal else None)
    render_text(builders.result(payload), console)
    return buf.getvalue()


def _incident_a(width: int = 80, terminal: bool = False) -> tuple[str, list[str]]:
    snap = read_snapshot(["fixtures/incident-a/master", "fixtures/incident-a/node1"])
    groups = attach(snap, "master=fixtures/incident-a/sg-master.json", None)
    result = run_rules(snap, security_groups=groups)
    buf = io.StringIO()
    render_text(result, Console(file=buf, width=width, force_terminal=terminal,
                                color_system="standard" if terminal else None))
    fixes = [line for f in result.findings for line in f.remediation]
    fixes += [f"{e.host} {e.file}:{e.line}  {e.text}" for f in result.findings for e in f.evidence if e.line]
    fixes += [r for f in result.findings for r in f.references]
    return buf.getvalue(), fixes


def test_text_shows_headline_summary_findings_evidence_fix_and_not_evaluated() -> None:
    out = _render()
    assert out.startswith("3 problems break master → node1 pods (172.18.36.0/24).")
    assert "What to fix, most traffic first" in out
    assert out.index("NS301") < out.index("NS201") < out.index("NS302")
    assert "master flannel/journal:3  Using 172.16.0.4 as external interface" in out
    assert "systemctl restart flanneld" in out
    assert "NS405" in out and "ethtool" in out
    assert "routing: 2 checks ran, 1 fired" in out


def test_at_80_columns_commands_evidence_and_urls_are_never_broken() -> None:
    out, whole = _incident_a()
    lines = out.splitlines()
    for item in whole:
        assert any(line.strip() == item.strip() or line.strip().endswith(item.strip()) for line in lines), \
            f"broken over lines: {item!r}"
    assert not BOX & set(out), "text inside box borders"


def test_at_80_columns_headers_are_whole_and_prose_wraps_at_words() -> None:
    out, _ = _incident_a()
    header = next(line for line in out.splitlines() if "collected (UTC)" in line)
    assert header.split() == ["host", "collected", "(UTC)", "sources", "ok", "missing", "unparsed"]
    prose = [line for line in out.splitlines() if line.startswith("           ")]  # "why" continuation lines
    assert prose and all(len(line) <= 80 for line in prose)
    assert "…" not in header and "collec\n" not in out


def test_why_and_references_are_not_bold() -> None:
    out, _ = _incident_a(terminal=True)
    why = next(line for line in out.splitlines() if "why" in line and "flannel on master uses" in line)
    label, _, rest = why.partition("why")
    assert "\x1b[1m" in label  # the label is bold
    assert "\x1b[1m" not in rest.split("\x1b[0m", 1)[-1][:40], "the explanation itself is bold"


def test_no_escape_codes_off_a_terminal_and_colour_on_one() -> None:
    assert "\x1b[" not in _render()
    assert "\x1b[" in _render(terminal=True)


def test_bundle_text_is_not_rich_markup() -> None:
    out = _render("[bold red]X[/bold red]")
    assert "[bold red]X[/bold red]" in out


def test_terminal_control_sequences_in_bundle_text_are_made_visible() -> None:
    out = _render("\x1b]0;PWNED\x07\x1b[2J\rX", terminal=True)
    assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\x0dX" in out


def test_trace_is_coloured_with_a_legend() -> None:
    snap = read_snapshot(["fixtures/incident-a/master", "fixtures/incident-a/node1"])
    trace = TraceEngine(snap).trace("master", "172.18.5.2", "icmp", None)
    plain, coloured = io.StringIO(), io.StringIO()
    render_trace(trace, Console(file=plain, width=80, color_system=None))
    render_trace(trace, Console(file=coloured, width=80, force_terminal=True, color_system="standard"))
    text = plain.getvalue()
    assert " ".join(text.split()).startswith(" ".join(legend().plain.split()))
    for mark in ("[+] permitted", "[>] forwarded", "[?] undecided", "[x] stopped"):
        assert mark in text
    assert "verdict: UNREACHABLE" in text and re.search(r"^ 1\.\s+\[\.\]\s+master\s+originate", text, re.M)
    assert "\x1b[31m" in coloured.getvalue() or "\x1b[1;31m" in coloured.getvalue()  # red for the stop
    assert max(len(line) for line in text.splitlines()) <= 80
