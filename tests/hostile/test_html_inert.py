"""The HTML reports the matrix wrote for inputs carrying HTML/JS payloads (host, interface, chain and
file names, manifest and sos manifest fields, security-group names, the bundle's own directory
name) open in headless Chromium without running any of it: no request but the file, no console
error, nothing set `document.title` or `data-pwned`, no image, only the report's own scripts."""

from __future__ import annotations

import pytest

from tests.hostile.conftest import Matrix
from tests.report.cdp import CHROMIUM, open_page

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
]

PROBES = {
    "title": "document.title",
    "pwned": "document.body.getAttribute('data-pwned')",
    "images": "document.images.length",
    "scripts": "document.scripts.length",
    "text": "document.body.innerText",
}


def test_hostile_text_runs_nothing(fast_matrix: Matrix) -> None:
    cases = [c for c in fast_matrix.cases.values() if c.html_payload]
    assert len(cases) >= 5
    opened = 0
    for case in cases:
        run = fast_matrix.run(case.name, "analyze-html")
        report = run.job.workdir / "out" / "report.html"
        if run.rc == 2:  # refused (one line, checked by the matrix): no report to attack
            assert not report.exists()
            continue
        page = open_page(report, PROBES)
        opened += 1
        assert page.requests == [report.resolve().as_uri()], (case.name, page.requests)
        assert page.errors == [], (case.name, page.errors)
        assert page.values["pwned"] is None, case.name
        assert page.values["title"] != "PWNED", case.name  # the title may quote the payload as text; a run sets it
        assert page.values["images"] == 0, case.name
        assert page.values["scripts"] == 2, case.name
    assert opened >= 4
