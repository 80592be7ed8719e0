"""A real headless Chromium opens the report from a file:// URL with networking pointed nowhere.

Checks: no request other than the file itself, no console errors or CSP violations, our one script
ran (its hash matches the CSP), the screenshot is not blank, and hostile bundle text runs nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.report.html import render_html
from tests.report import builders
from tests.report.cdp import CHROMIUM, open_page
from tests.report.png import distinct_colours

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
]

PROBES = {
    "title": "document.title",
    "js": "document.documentElement.getAttribute('data-js')",
    "pwned": "document.body.getAttribute('data-pwned')",
    "images": "document.images.length",
    "text": "document.body.innerText",
    "scripts": "document.scripts.length",
    "findings": "document.querySelectorAll('article.finding').length",
}


def _check_clean(path: Path, *, expect_findings: int | None = None) -> dict[str, object]:
    page = open_page(path, PROBES)
    assert page.requests == [path.resolve().as_uri()], page.requests
    assert page.errors == [], page.errors
    assert page.values["js"] == "on", "the report's own script did not run: CSP hash mismatch?"
    assert page.values["pwned"] is None
    assert "PWNED" not in str(page.values["title"]).replace("document.title='PWNED'", "")
    assert page.values["images"] == 0
    assert page.values["scripts"] == 2
    if expect_findings is not None:
        assert page.values["findings"] == expect_findings
    assert distinct_colours(page.screenshot) > 20, "screenshot looks blank"
    return page.values


def test_report_opens_offline_without_errors(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(builders.result(), builders.snapshot(), raw_files=builders.RAW_FILES,
                                security_groups={"master": "sg-master.json"}), encoding="utf-8")
    values = _check_clean(path, expect_findings=4)
    assert "3 problems break master → node1 pods" in str(values["text"])


FILTER = """(() => {{
  const t = document.getElementById('filter-text');
  t.value = {text!r}; t.dispatchEvent(new Event('input'));
  document.querySelectorAll('#filters input[type=checkbox]').forEach(b => {{
    b.checked = b.value !== {off!r}; b.dispatchEvent(new Event('change'));
  }});
  return Array.from(document.querySelectorAll('article.finding')).filter(a => !a.hidden).map(a => a.id);
}})()"""


def test_filters_work_with_javascript(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(builders.result(), builders.snapshot()), encoding="utf-8")
    page = open_page(path, {
        "controls": "document.getElementById('filters').hidden",
        "by_text": FILTER.format(text="iptables-reject", off=""),
        "by_severity": FILTER.format(text="", off="error"),
        "reset": FILTER.format(text="", off=""),
    })
    assert page.values["controls"] is False
    assert page.values["by_text"] == ["NS201-master-INPUT"]
    assert page.values["by_severity"] == ["NS101-master"]
    assert len(page.values["reset"]) == 4


@pytest.mark.parametrize("payload", [builders.SCRIPT, builders.ATTR, builders.JSURL], ids=["script", "attr", "jsurl"])
def test_hostile_text_runs_nothing_and_shows_as_text(tmp_path: Path, payload: str) -> None:
    host = f"master{payload}"
    path = tmp_path / "hostile.html"
    raw = {host: {"flannel/journal": payload + "\n", "firewall/iptables-save": f'-A INPUT --comment "{payload}"\n'}}
    path.write_text(render_html(builders.result(payload), builders.snapshot(payload), raw_files=raw,
                                security_groups={host: payload}), encoding="utf-8")
    values = _check_clean(path)
    assert payload.splitlines()[0] in str(values["text"])


def test_the_harness_catches_a_page_that_loads_and_runs(tmp_path: Path) -> None:
    """Negative control: the same checks fail on a page with an outside load and an inline handler."""
    path = tmp_path / "bad.html"
    path.write_text('<html><body><img src="http://example.invalid/x.png" onerror="document.title=\'PWNED\'">'
                    "<script>console.error('boom')</script></body></html>", encoding="utf-8")
    page = open_page(path, PROBES)
    assert "http://example.invalid/x.png" in page.requests
    assert page.values["title"] == "PWNED"
    assert any("boom" in e for e in page.errors)


def test_readable_with_javascript_off(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(builders.result(), builders.snapshot()), encoding="utf-8")
    page = open_page(path, PROBES, javascript=False)
    assert page.values["js"] is None
    text = str(page.values["text"])
    assert "3 problems break master → node1 pods" in text
    assert "Using 172.16.0.4 as external interface" in text and "systemctl restart flanneld" in text
    assert distinct_colours(page.screenshot) > 20


def test_print_shows_collapsed_sections_even_without_javascript(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(builders.result(), builders.snapshot(), raw_files=builders.RAW_FILES),
                    encoding="utf-8")
    probes = {
        "traces": "Array.from(document.querySelectorAll('#traces .trace')).filter(p => p.checkVisibility()).length",
        "raw": "document.querySelectorAll('#appendix pre.raw').length",
        "raw_visible": "Array.from(document.querySelectorAll('#appendix pre.raw')).filter(p => p.checkVisibility())"
                       ".length",
        "filters": "getComputedStyle(document.getElementById('filters')).display",
        "appendix": "getComputedStyle(document.getElementById('appendix')).display",
    }
    screen = open_page(path, probes, javascript=False)
    assert screen.values["raw"] == 2 and screen.values["raw_visible"] == 0  # collapsed on screen
    printed = open_page(path, probes, javascript=False, media="print")
    assert printed.values["traces"] == 1  # the traces print
    assert printed.values["appendix"] == "none" and printed.values["raw_visible"] == 0  # the appendix does not
    assert printed.values["filters"] == "none"


def test_the_appendix_prints_on_request(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(builders.result(), builders.snapshot(), raw_files=builders.RAW_FILES),
                    encoding="utf-8")
    ask = ("(() => { const box = document.querySelector('#print-appendix input'); box.click();"
           " return document.body.classList.contains('print-appendix'); })()")
    page = open_page(path, {"control": "document.getElementById('print-appendix').hidden", "asked": ask,
                            "appendix": "getComputedStyle(document.getElementById('appendix')).display"},
                     media="print")
    assert page.values["control"] is False and page.values["asked"] is True
    assert page.values["appendix"] == "block"
