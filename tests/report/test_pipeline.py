"""The real pipeline (reader -> parsers -> rules -> report) on the demo and hostile fixtures.

The incident A golden is regenerated with NETSNAP_REGEN_GOLDEN=1 (review the diff before committing).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.report.json_output import analyze_schema
from tests.report.cdp import CHROMIUM, open_page
from tests.report.png import distinct_colours

REPO = Path(__file__).resolve().parents[2]
INCIDENT_A = REPO / "fixtures" / "incident-a"
HOSTILE = REPO / "fixtures" / "hostile"
GOLDEN = Path(__file__).parent / "golden" / "incident-a.html"
DEMO_ARGS = ["fixtures/incident-a/master", "fixtures/incident-a/node1",
             "--security-group", "master=fixtures/incident-a/sg-master.json"]
runner = CliRunner()

needs_incident_a = pytest.mark.skipif(
    not (INCIDENT_A / "master").is_dir() or not (INCIDENT_A / "sg-master.json").is_file(),
    reason="fixtures/incident-a (master, node1, sg-master.json) not present yet",
)


def _normalised(html: str) -> str:
    """The report with the rules version (a hash of the rule files, volatile while rules evolve) masked."""
    data = re.search(r'<script type="application/json" id="netsnap-data">(.*?)</script>', html, re.S)
    assert data is not None
    version = json.loads(data.group(1))["rules_version"]
    return html.replace(version, "RULES-VERSION")


def _analyze(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(REPO)
    res = runner.invoke(app, ["analyze", *args])
    return res.exit_code, res.stdout, res.stderr


@needs_incident_a
def test_incident_a_golden_html(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764150000")
    out = tmp_path / "report.html"
    code, _, err = _analyze([*DEMO_ARGS, "-o", str(out), "--quiet"], monkeypatch)
    assert code == 1, err
    html = _normalised(out.read_text(encoding="utf-8")).replace(str(tmp_path), "TMP")
    if os.environ.get("NETSNAP_REGEN_GOLDEN"):
        GOLDEN.write_text(html, encoding="utf-8")
    assert GOLDEN.exists(), "golden missing: run with NETSNAP_REGEN_GOLDEN=1"
    assert html == GOLDEN.read_text(encoding="utf-8"), "report changed: regenerate with NETSNAP_REGEN_GOLDEN=1"


@needs_incident_a
def test_incident_a_twice_gives_identical_bytes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With SOURCE_DATE_EPOCH set (reproducible builds) two runs are byte-identical; the time in the header
    is that epoch, not the clock's."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764150000")
    outs = []
    for _ in range(2):
        _analyze([*DEMO_ARGS, "-o", str(tmp_path / "r.html"), "--quiet"], monkeypatch)
        outs.append((tmp_path / "r.html").read_bytes())
    assert outs[0] == outs[1]
    assert b"<dt>generated</dt><dd>2025-11-26T09:40:00Z</dd>" in outs[0]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    _analyze([*DEMO_ARGS, "-o", str(tmp_path / "r.html"), "--quiet"], monkeypatch)
    assert b"<dd>2025-11-26T09:40:00Z</dd>" not in (tmp_path / "r.html").read_bytes()


@needs_incident_a
def test_incident_a_json_names_the_three_causes(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _analyze([*DEMO_ARGS, "--format", "json"], monkeypatch)
    assert code == 1, err
    doc = json.loads(out)
    jsonschema.validate(doc, analyze_schema())
    causes = {f["cause"] for f in doc["findings"] if f["severity"] == "error"}
    assert {"iptables-reject", "flannel-wrong-iface", "vxlan-port-blocked"} <= causes


def test_hostile_bundle_report_is_inert(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "hostile.html"
    code, _, err = _analyze([str(HOSTILE), "-o", str(out), "--fail-on", "none", "--quiet"], monkeypatch)
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    for payload in ("<script>document.title='PWNED'", '"><img src=x onerror="document.title', "<script>x</script>"):
        assert payload not in html
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;" in html
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = open_page(out, {"title": "document.title", "pwned": "document.body.getAttribute('data-pwned')",
                           "js": "document.documentElement.getAttribute('data-js')",
                           "text": "document.body.innerText", "images": "document.images.length"})
    assert page.requests == [out.resolve().as_uri()]
    assert page.errors == []
    assert page.values["js"] == "on"
    assert page.values["pwned"] is None and page.values["images"] == 0
    assert not str(page.values["title"]).endswith("PWNED")
    assert "<script>document.title='PWNED'" in str(page.values["text"])  # visible as text
    assert distinct_colours(page.screenshot) > 20


def test_unreadable_inputs_are_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"\x1f\x8b\x08\x00 definitely not a whole gzip stream")
    cases = [
        [str(junk)],
        [str(HOSTILE), "--rules-dir", str(tmp_path / "no-rules-here")],
        [str(HOSTILE), "--security-group", f"{tmp_path / 'x'}"],
    ]
    for args in cases:
        code, out, err = _analyze(args, monkeypatch)
        lines = err.strip().splitlines()
        assert code == 2, (args, err)
        assert len(lines) == 1 and lines[0].startswith("netsnap: error: "), (args, lines)
        assert "internal error" not in lines[0], lines
        assert out == ""


@needs_incident_a
def test_incident_a_report_opens_clean_in_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    out = tmp_path / "demo.html"
    _analyze([*DEMO_ARGS, "-o", str(out), "--quiet"], monkeypatch)
    page = open_page(out, {"js": "document.documentElement.getAttribute('data-js')",
                           "markers": "document.querySelectorAll('svg .marker').length",
                           "red": "document.querySelectorAll('svg .failing').length",
                           "findings": "document.querySelectorAll('article.finding').length"})
    assert page.requests == [out.resolve().as_uri()]
    assert page.errors == []
    assert page.values["js"] == "on"
    assert page.values["markers"] >= 3 and page.values["red"] >= 3 and page.values["findings"] >= 3
    assert distinct_colours(page.screenshot) > 20
