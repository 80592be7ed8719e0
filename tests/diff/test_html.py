"""The diff HTML escapes everything from the bundles."""

from __future__ import annotations

from netsnap.diff.compare import compare_hosts
from netsnap.diff.html import render_diff_html
from netsnap.diff.model import DiffResult
from tests.diff.builders import host


def test_diff_html_escapes_bundle_text() -> None:
    good = host("good", {"eth1": ["192.168.0.15/24"]}, [("eth1", "192.168.0.1", 100)])
    bad = host("<script>alert(1)</script>", {"eth1": ["192.168.0.16/24"], "x<img src=x onerror=alert(1)>": []},
               [("eth1", "192.168.0.1", 100)])
    diffs = compare_hosts(good, bad)
    html = render_diff_html(DiffResult(good=["good"], bad=[bad.name], pairs=[("good", bad.name)], differences=diffs))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "Content-Security-Policy" in html
