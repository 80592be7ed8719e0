"""Property: whatever text a bundle carries, the report's markup stays ours and the JSON stays valid."""

from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsnap.model.evidence import Evidence
from netsnap.report.html import is_safe_url, render_html
from netsnap.report.json_output import analyze_schema, render_json
from tests.report import builders
from tests.report.test_html import _parse

TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "div", "span", "a",
        "table", "thead", "tbody", "tr", "th", "td", "nav", "section", "svg", "rect", "line", "path", "text",
        "circle", "article", "dl", "dt", "dd", "code", "pre", "br", "ul", "li", "details", "summary", "label",
        "input", "script", "strong", "footer", "main", "h4", "ol", "button", "polygon"}
NASTY = st.sampled_from(["<", ">", "&", '"', "'", "</script>", "<!--", "]]>", "javascript:", "\x1b[2J", "\x00",
                         "{{ 7*7 }}", "{% raw %}", "\u2028", "<svg onload=alert(1)>", "` onmouseover=x "])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=6).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host=TEXT, text=TEXT, ref=TEXT)
def test_any_bundle_text_keeps_markup_ours(host: str, text: str, ref: str) -> None:
    res = builders.result()
    f = res.findings[0]
    res.findings[0] = f.model_copy(update={
        "title": text, "explanation": text, "remediation": [text], "references": [ref, "https://x.example/" + ref],
        "evidence": [Evidence(host=host, file=text, line=1, text=text)], "hosts": [host], "key": text,
    })
    snap = builders.snapshot()
    snap.hosts[0].interfaces[text or "x"] = builders._iface(text or "x", None, 20)
    html = render_html(res, snap, raw_files={"master": {text or "f": text}}, security_groups={"master": text})
    doc = _parse(html)
    assert {t for t, _ in doc.tags} <= TAGS
    assert [t for t, _ in doc.tags].count("script") == 2
    for _, attrs in doc.tags:
        for name, value in attrs:
            assert not name.startswith("on")
            if name == "href":
                assert value is not None and (value.startswith("#") or is_safe_url(value))
    out = json.loads(render_json(res))
    jsonschema.validate(out, analyze_schema())
    assert out["findings"][0]["explanation"] == text
