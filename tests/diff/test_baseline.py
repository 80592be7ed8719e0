"""`netsnap analyze --baseline GOOD` adds a "compared with" section (text and HTML)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from netsnap.cli.app import app

FIXTURES = Path(__file__).parents[2] / "fixtures"
BAD = [str(FIXTURES / "incident-a" / "master"), str(FIXTURES / "incident-a" / "node1")]
GOOD = str(FIXTURES / "diff" / "master-without-mgmt-net")


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)


def test_html_report_gains_the_compared_with_section(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["analyze", *BAD, "--baseline", GOOD, "-o", str(out), "--fail-on", "none"])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    parser = _Sections()
    parser.feed(html)
    assert "compared-with" in parser.ids
    section = html[html.index('id="compared-with"'):]
    assert "dev eth0 via 172.16.0.1" in section  # the default route that differs comes first
    assert section.index("default-route") < section.index("172.16.0.0/24")
    assert 'href="#NS301-' in section  # links to the finding it explains


def test_without_baseline_there_is_no_section(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["analyze", *BAD, "-o", str(out), "--fail-on", "none"])
    assert res.exit_code == 0, res.output
    assert 'id="compared-with"' not in out.read_text()


def test_text_output_lists_the_differences() -> None:
    res = CliRunner().invoke(app, ["analyze", *BAD, "--baseline", GOOD, "--fail-on", "none"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    tail = out[out.index("Compared with a known-good host"):]
    assert out.index("Compared with a known-good host") < out.index("Findings")  # summarised near the top
    assert " • default-route main: good dev eth1 via 192.168.0.1 metric 100, bad dev eth0" in tail
    assert "explains finding 1" in tail


def test_unreadable_baseline_is_a_one_line_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["analyze", *BAD, "--baseline", str(tmp_path / "nope.tgz")])
    assert res.exit_code == 2
    assert "nope.tgz" in res.stderr and len(res.stderr.strip().splitlines()) == 1
