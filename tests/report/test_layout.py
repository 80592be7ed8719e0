"""The demo report (incident A through the real CLI) in a real headless Chromium: layout at 1400 and 390 px,
print to PDF, copy buttons with JavaScript on and off, and the size of a large node's report.

Layout checks, at each width:
- nothing is wider than the viewport: the page does not scroll sideways, and every element's box ends
  inside the viewport, except inside a `.scroll` container (wide tables, the topology picture), whose
  own box must fit;
- evidence and fix text is not squeezed into a narrow column: every evidence line and fix command of at
  least MIN_CHARS characters gets a column at least MIN_CHARS characters wide (the evidence column, the
  command box without its padding; measured with a probe of MIN_CHARS characters in the same font).
Print: the demo prints on at most PDF_PAGES A4 pages (summary, findings, flows, topology, traces; the
appendix is left out unless asked for). A large node: see test_large_node_report_stays_small.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app
from tests.report.cdp import CHROMIUM, open_page
from tests.report.png import distinct_colours

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
]

ROOT = Path(__file__).parents[2]
DEMO = [str(ROOT / "fixtures/incident-a/master"), str(ROOT / "fixtures/incident-a/node1"),
        "--security-group", f"master={ROOT / 'fixtures/incident-a/sg-master.json'}", "--fail-on", "none", "-q"]
MIN_CHARS = 30
PDF_PAGES = 10
CLIPBOARD = ("clipboardReadWrite", "clipboardSanitizedWrite")

OVERFLOW = """(() => {
  const w = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.scroll') && !el.classList.contains('scroll')) continue;
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 1) bad.push(el.tagName + '.' + el.className + ' right=' + Math.round(r.right));
  }
  return {scroll: document.documentElement.scrollWidth, width: w, bad: bad.slice(0, 10)};
})()"""

SQUEEZED = """(() => {
  const probe = document.createElement('code');
  probe.textContent = '0'.repeat(MIN_CHARS);
  probe.style.whiteSpace = 'pre';
  const out = [];
  let checked = 0;
  for (const el of document.querySelectorAll('ul.evidence code, .cmd pre code')) {
    if (!el.checkVisibility() || el.textContent.length < MIN_CHARS) continue;
    el.parentNode.appendChild(probe);
    const need = probe.getBoundingClientRect().width;
    probe.remove();
    checked++;
    // the width the text may use: the evidence column (the code is a grid item), or the command's pre box
    const box = el.closest('pre') || el;
    const style = getComputedStyle(box);
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (room < need - 1) out.push(el.textContent.slice(0, 40) + ' room=' + Math.round(room));
  }
  return {checked: checked, squeezed: out};
})()""".replace("MIN_CHARS", str(MIN_CHARS))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout") / "demo.html"
    res = CliRunner().invoke(app, ["analyze", *DEMO, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("width", [1400, 390])
def test_layout_fits_the_viewport_and_keeps_evidence_readable(demo: Path, width: int) -> None:
    page = open_page(demo, {"overflow": OVERFLOW, "squeezed": SQUEEZED}, width=width, height=900)
    assert page.errors == []
    over = page.values["overflow"]
    assert over["scroll"] <= over["width"], over
    assert over["bad"] == [], over
    squeezed = page.values["squeezed"]
    assert squeezed["checked"] >= 10, squeezed  # the demo has long evidence lines and commands
    assert squeezed["squeezed"] == [], squeezed
    assert distinct_colours(page.screenshot) > 20, "screenshot looks blank"


def test_first_screen_at_390_px_is_the_summary(demo: Path) -> None:
    page = open_page(demo, {"top": "Math.round(document.getElementById('summary').getBoundingClientRect().top)",
                            "bundles": "Math.round(document.getElementById('bundles').getBoundingClientRect().top)"},
                     width=390, height=800)
    # the header quotes the command line, whose paths (checkout, temp dir) differ per machine: leave room
    assert page.values["top"] < 600, "the headline and summary start on the first screen (800 px)"
    assert page.values["bundles"] > 3000, "the bundle details are in the appendix, not on the first screen"


def test_demo_prints_on_few_pages_without_the_appendix(demo: Path) -> None:
    probes = {"appendix": "getComputedStyle(document.getElementById('appendix')).display",
              "traces": "Array.from(document.querySelectorAll('#traces ol.hops')).filter(o => o.checkVisibility())"
                        ".length",
              "copy": "Array.from(document.querySelectorAll('button.copy')).filter(b => b.checkVisibility()).length"}
    printed = open_page(demo, probes, media="print", pdf=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", printed.pdf))
    assert 1 <= pages <= PDF_PAGES, pages
    assert printed.values["appendix"] == "none"
    assert printed.values["traces"] >= 6  # every required flow's trace is printed
    assert printed.values["copy"] == 0


def test_copy_buttons_copy_the_command_with_javascript(demo: Path) -> None:
    page = open_page(demo, {
        "buttons": "Array.from(document.querySelectorAll('button.copy')).filter(b => b.checkVisibility()).length",
        "blocks": "document.querySelectorAll('.cmd pre').length",
        "want": "document.querySelectorAll('.cmd pre')[1].textContent",
        "label": "(async () => { const b = document.querySelectorAll('button.copy')[1]; b.click();"
                 " await new Promise(r => setTimeout(r, 200)); return b.textContent; })()",
        "clipboard": "navigator.clipboard.readText()",
    }, permissions=CLIPBOARD)
    assert page.errors == []
    assert page.values["buttons"] == page.values["blocks"] >= 8
    assert page.values["label"] == "Copied"
    assert page.values["clipboard"] == page.values["want"] == "systemctl restart flanneld"


def test_without_javascript_commands_are_plain_selectable_text(demo: Path) -> None:
    page = open_page(demo, {
        "buttons": "Array.from(document.querySelectorAll('button.copy')).filter(b => b.checkVisibility()).length",
        "select": "getComputedStyle(document.querySelector('.cmd pre')).userSelect",
        "selected": "(() => { const pre = document.querySelectorAll('.cmd pre')[1];"
                    " getSelection().selectAllChildren(pre); return getSelection().toString(); })()",
        "text": "document.body.innerText",
    }, javascript=False)
    assert page.values["buttons"] == 0  # no dead button without JavaScript
    assert page.values["select"] != "none"
    assert page.values["selected"] == "systemctl restart flanneld"
    assert "iptables -I INPUT 7 -p udp -s 192.168.0.16 --dport 8472 -j ACCEPT" in page.values["text"]


@pytest.mark.slow
def test_large_node_report_stays_small(tmp_path: Path) -> None:
    """bench/generate.py at 1/10 scale (10,000 iptables rules in 3,000 chains, 1,000 routes, 20,000 journal
    lines) in 4 views. The appendix is capped per host (inventory.Caps.default), so the report's size does
    not grow with the node: 0.55 MB here; the full 100k-rule node gives about the same (measured, not run
    here: it takes a minute), far under the 5 MB bound. --full-appendix lifts the caps."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    node = tmp_path / "node"
    generate.generate(node, 0.1)
    out = tmp_path / "large.html"
    res = CliRunner().invoke(app, ["analyze", str(node), "-o", str(out), "--fail-on", "none", "-q"])
    assert res.exit_code == 0, res.output
    size = out.stat().st_size
    assert size < 5 * 1024 * 1024, size
    html = out.read_text(encoding="utf-8")
    assert "more iptables chains: in the bundle; --full-appendix embeds them" in html
    assert "more routes: in the bundle" in html
    page = open_page(out, {"h2": "document.querySelectorAll('h2').length"})
    assert page.errors == [] and page.values["h2"] >= 6


def test_the_layout_probes_catch_a_bad_page(tmp_path: Path) -> None:
    """Negative control: a page wider than the viewport with a one-word-wide evidence column fails both."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><div style="width:2000px">wide</div><ul class="evidence"><li style="display:grid;'
                   'grid-template-columns:60px 40px"><span>loc</span><code>' + "x " * 40 + "</code></li></ul>"
                   "</body></html>", encoding="utf-8")
    page = open_page(bad, {"overflow": OVERFLOW, "squeezed": SQUEEZED}, width=390, height=600)
    assert page.values["overflow"]["scroll"] > page.values["overflow"]["width"]
    assert page.values["overflow"]["bad"]
    assert page.values["squeezed"]["squeezed"]
