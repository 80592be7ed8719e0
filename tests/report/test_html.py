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
        assert f'href="#{anchor}"' in html  # the summary, the findings table and the finding's own link
    assert html.index('id="NS301-master-eth0"') < html.index('id="NS201-master-INPUT"')
    assert html.index('id="summary"') < html.index('class="findings-table"') < html.index('id="topology"')
    assert "routing: 2 checks ran, 1 fired" in html
    assert "kernel: 1 check ran, nothing found; 1 not evaluated" in html
    assert "<code>NS405</code> VXLAN checksum offload bug" in html and "command missing: ethtool -k flannel.1" in html
    assert "<svg" in html and 'class="marker error"' in html
    assert "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" in html
    assert "2026-11-26T09:12:00Z" in html and "<dd>0.1.0 · rules test-1</dd>" in html
    assert "@media print" in html and "details::details-content" in html
    assert "<summary>routes/route-n" in html  # raw files in collapsible sections


def test_summary_first_plain_sentences_and_one_copyable_block_per_command() -> None:
    html = _report()
    summary = html[html.index('id="summary"'):html.index('id="findings"')]
    assert "3 problems break master → node1 pods (172.18.36.0/24)." in summary
    assert "Flannel uses an interface the peers cannot reach (on master)." in summary
    assert "flannel-wrong-iface" not in summary  # no cause slugs in the summary
    block = ('<div class="cmd"><pre><code>systemctl restart flanneld</code></pre>'
             '<button type="button" class="copy" hidden>Copy</button></div>')
    assert block in summary and html.count(block) == 2  # in the summary and in finding 1
    finding = html[html.index('id="NS301-master-eth0"'):html.index('id="NS201-master-INPUT"')]
    assert finding.count('<div class="cmd">') == 2  # FLANNEL_OPTS=..., systemctl restart


def test_comment_lines_of_a_fix_are_notes_not_commands() -> None:
    res = builders.result()
    res.findings[1] = res.findings[1].model_copy(update={"remediation": [
        "# in /etc/sysconfig/iptables (line 3):", "iptables -I INPUT 1 -j ACCEPT", "# persist: service iptables save"]})
    html = render_html(res)
    finding = html[html.index('id="NS201-master-INPUT"'):html.index('id="NS302-master-sg"')]
    assert '<p class="cmd-note"># in /etc/sysconfig/iptables (line 3):</p>' in finding
    assert finding.count('<div class="cmd">') == 1


def test_header_carries_generation_time_and_command_when_given() -> None:
    from netsnap.report.html import ReportContext

    html = render_html(builders.result(), context=ReportContext(generated_at="2025-11-26T09:40:00Z",
                                                                  command="netsnap analyze m.tgz -o r.html"))
    assert "<dt>generated</dt><dd>2025-11-26T09:40:00Z</dd>" in html
    assert "<dt>command</dt><dd><code>netsnap analyze m.tgz -o r.html</code></dd>" in html
    assert "generated" not in render_html(builders.result()).split("<main>")[0]  # none given: none shown


def test_not_applicable_is_shown_apart_from_not_evaluated() -> None:
    res = builders.result()
    runs = [*res.rule_runs, RuleRun(rule="NS306", title="Peer routes", cause="missing-peer-route",
                                    category="overlay", status="not-applicable", not_applicable=["db1"])]
    html = render_html(res.model_copy(update={"rule_runs": runs}))
    assert "Not evaluated (1) and not applicable (1)" in html
    assert "<code>NS306</code> Peer routes · not applicable on db1" in html
    assert '<span class="n">1</span> not applicable' in html


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
