"""`netsnap diff`: the format follows -o, links stay inside the page, sides are labelled, --top N, and the
differences with no effect on reachability come last, counted apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app

ROOT = Path(__file__).parents[2]
GOOD = str(ROOT / "fixtures/diff/master-without-mgmt-net")
BAD = str(ROOT / "fixtures/incident-a/master")
runner = CliRunner()


@pytest.mark.parametrize(("name", "start"), [("d.html", "<!DOCTYPE html>"), ("d.json", "{"), ("d.txt", "bad: master")])
def test_format_follows_the_output_suffix(tmp_path: Path, name: str, start: str) -> None:
    res = runner.invoke(app, ["diff", GOOD, BAD, "-o", str(tmp_path / name)])
    assert res.exit_code == 1, res.output
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)


def test_html_links_point_inside_the_page_and_sides_are_labelled(tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    runner.invoke(app, ["diff", GOOD, BAD, "-o", str(out)])
    html = out.read_text(encoding="utf-8")
    ids = set(re.findall(r'id="([^"]+)"', html))
    links = set(re.findall(r'href="#([^"]+)"', html))
    assert links and links <= ids, links - ids
    assert '<span class="side bad">bad: master (' in html and '<span class="side good">good: master (good) (' in html
    assert "master (good) routes/ip-route:1" in html  # the good side's evidence says it is the good side
    effect = html.index("touch a blocked flow"), html.index("No effect on reachability (7)")
    assert effect[0] < effect[1]


def test_top_limits_what_is_shown(tmp_path: Path) -> None:
    res = runner.invoke(app, ["diff", GOOD, BAD, "--top", "2"])
    assert res.exit_code == 1
    assert "  2. [" in res.stdout and "  3. [" not in res.stdout
    assert "… 8 more (without --top)" in res.stdout
    doc = json.loads(runner.invoke(app, ["diff", GOOD, BAD, "--top", "2", "--format", "json"]).stdout)
    assert len(doc["differences"]) == 2
    assert runner.invoke(app, ["diff", GOOD, BAD, "--top", "0"]).exit_code == 2


def test_text_lists_no_effect_differences_after_the_others() -> None:
    out = runner.invoke(app, ["diff", GOOD, BAD]).stdout
    assert out.startswith("bad: master (") and "vs  good: master (good) (" in out.splitlines()[0]
    assert "3 differences touch a blocked flow" in out and "7 have no effect on reachability" in out
    assert out.index("[default-route] main") < out.index("No effect on reachability (7)") < out.index(
        "[network] eth0 172.16.0.0/24")
