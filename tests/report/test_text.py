"""The rich text report: content, no colour off a terminal, bundle text never read as markup."""

from __future__ import annotations

import io

from rich.console import Console

from netsnap.report.text import render_text
from tests.report import builders


def _render(payload: str = "", *, terminal: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=140, force_terminal=terminal, color_system="standard" if terminal else None)
    render_text(builders.result(payload), console)
    return buf.getvalue()


def test_text_shows_verdict_findings_evidence_fix_and_not_evaluated() -> None:
    out = _render()
    assert "3 causes block master → node1 pods (172.18.36.0/24) traffic" in out
    assert out.index("NS301") < out.index("NS201") < out.index("NS302")
    assert "master flannel/journal:3" in out and "Using 172.16.0.4 as external interface" in out
    assert "systemctl restart flanneld" in out
    assert "NS405" in out and "ethtool" in out
    assert "routing: 2 checks ran, 1 fired" in out
    assert "denied-in" in out and "security group egress" in out


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
