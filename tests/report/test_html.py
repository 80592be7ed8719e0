"""The HTML report: escaping, CSP, anchors, sections, determinism and the golden file.

Regenerate the golden with NETSNAP_REGEN_GOLDEN=1.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from netsnap.engine.findings import AnalysisResult, RuleRun
from netsnap.report.html import content_security_policy, environment, is_safe_url, render_html
from tests.report import builders

GOLDEN = Path(__file__).parent / "golden" / "incident-a-handmade.html"
SG = {"master": "sg-master.json"}


def _report(payload: str = "") -> str:
    raw = {f"master{payload}" if payload else "master": builders.RAW_FILES["master"]}
    if payload:
        raw[f"master{payload}"] = {**builders.RAW_FILES["master"], "flannel/journal": payload}
    return render_html(builders.result(payload), builders.snapshot(payload), raw_files=raw,
                       security_groups={next(iter(raw)): "sg-master.json"})


def test_environment_autoescapes_every_template() -> None:
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the document's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


@pytest.mark.parametrize("payload", [builders.SCRIPT, builders.ATTR, builders.JSURL])
def test_hostile_payloads_are_escaped_everywhere(payload: str) -> None:
    html = _report(payload)
    assert payload not in html
    doc = _parse(html)
    names = [t for t, _ in doc.tags]
    assert "img" not in names
    assert names.count("script") == 2  # the JSON data block and the one hashed script
    assert payload in "".join(doc.text)  # shown as text


def test_no_inline_event_handlers_or_outside_urls() -> None:
    for payload in (builders.SCRIPT, builders.ATTR, builders.JSURL):
        for tag, attrs in _parse(_report(payload)).tags:
            for name, value in attrs:
                assert not name.startswith("on"), (tag, name)
                if name in ("href", "src", "action", "formaction", "xlink:href"):
                    assert value is not None
                    assert value.startswith("#") or is_safe_url(value), (tag, name, value)
                    assert not (tag != "a" and name == "src"), (tag, name)
    html = _report()
    assert "@import" not in html and "url(" not in html


def test_links_are_http_only() -> None:
    html = _report()
    assert 'href="https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md"' in html
    assert 'href="javascript' not in html
    assert "javascript:document.title=&#39;PWNED&#39;" in html  # shown as text
    assert is_safe_url("http://x.example/a") and is_safe_url("HTTPS://x.example")
    for bad in ["javascript:alert(1)", "data:text/html,x", "//evil.example", "https://a b", "https://x\"y", "ftp://x"]:
        assert not is_safe_url(bad), bad


def test_csp_forbids_outside_loads_and_hashes_the_one_script() -> None:
    html = _report()
    csp = content_security_policy()
    assert f'<meta http-equiv="Content-Security-Policy" content="{csp.replace(chr(39), "&#39;")}">' in html
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    script = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(script) == 1
    digest = base64.b64encode(hashlib.sha256(script[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


def test_embedded_data_goes_through_tojson() -> None:
    html = _report(builders.SCRIPT)
    block = re.search(r'<script type="application/json" id="netsnap-data">(.*?)</script>', html, re.S)
    assert block is not None
    assert "<" not in block.group(1) and "\\u003cscript\\u003e" in block.group(1)


def test_sections_anchors_and_empty_states() -> None:
    html = _report()
    for anchor in ("NS301-master-eth0", "NS201-master-INPUT", "NS302-master-sg", "NS101-master"):
        assert f'id="{anchor}"' in html
        assert f'href="#{anchor}"' in html  # the topology marker or the finding's own link
    assert html.index('id="NS301-master-eth0"') < html.index('id="NS201-master-INPUT"')
    assert "routing: 2 checks ran, 1 fired" in html
    assert "kernel: 1 check ran, nothing found; 1 not evaluated" in html
    assert "<td>NS405</td>" in html and "command missing: ethtool -k flannel.1" in html
    assert "<svg" in html and "tunnel failing" in html and 'class="marker error"' in html
    assert "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" in html
    assert "2026-11-26T09:12:00Z" in html and "netsnap 0.1.0" in html and "rules test-1" in html
    assert "@media print" in html and "details::details-content" in html
    assert "<summary>routes/route-n" in html  # raw files in collapsible sections


def test_empty_result_says_so() -> None:
    res = AnalysisResult(netsnap_version="0", rules_version="0", rule_runs=[
        RuleRun(rule=f"NS1{i:02}", title="t", cause="c", category="routing", status="passed") for i in range(9)])
    html = render_html(res)
    assert "routing: 9 checks ran, nothing found" in html
    assert "No findings: 9 checks ran and found nothing." in html
    assert "Every rule could be evaluated." in html


def test_rendering_is_deterministic() -> None:
    assert _report() == _report()


def test_golden_handmade_incident_a() -> None:
    html = _report()
    if os.environ.get("NETSNAP_REGEN_GOLDEN"):
        GOLDEN.write_text(html, encoding="utf-8")
    assert GOLDEN.exists(), "golden missing: run with NETSNAP_REGEN_GOLDEN=1"
    assert html == GOLDEN.read_text(encoding="utf-8")


def test_embedded_data_equals_the_json_output() -> None:
    import json

    from netsnap.report.json_output import render_json

    for payload in ("", builders.SCRIPT):
        html = _report(payload)
        block = re.search(r'<script type="application/json" id="netsnap-data">(.*?)</script>', html, re.S)
        assert block is not None
        assert json.loads(block.group(1)) == json.loads(render_json(builders.result(payload)))
