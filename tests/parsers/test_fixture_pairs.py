"""Every raw sample under fixtures/<source>/<variant>.in parses to fixtures/<source>/<variant>.json.

The pairs are found automatically. To (re)write an expected file after a deliberate change, run
`NETSNAP_REGEN=1 pytest tests/parsers/test_fixture_pairs.py` and review the diff by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netsnap.parsers.registry import PARSER_MODULES, parser_for

FIXTURES = Path(__file__).parent / "fixtures"


def _pairs() -> list[tuple[str, Path]]:
    out = []
    for src_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for raw in sorted(src_dir.glob("*.in")):
            out.append((src_dir.name, raw))
    return out


def test_fixture_sources_are_known() -> None:
    unknown = [p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in PARSER_MODULES]
    assert unknown == []


@pytest.mark.parametrize(("source", "raw"), _pairs(), ids=[f"{s}/{r.stem}" for s, r in _pairs()])
def test_fixture_pair(source: str, raw: Path) -> None:
    text = raw.read_bytes().decode("utf-8", errors="replace")
    result = parser_for(source)(text, raw.name)
    got = json.loads(result.model_dump_json())
    expected_path = raw.with_suffix(".json")
    if os.environ.get("NETSNAP_REGEN"):
        expected_path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert expected_path.exists(), f"missing expected output {expected_path}"
    assert got == json.loads(expected_path.read_text())


def test_every_parser_has_fixture_pairs() -> None:
    # each parser module is proven by raw -> expected pairs beside the tests, not only by unit tests
    proven = {PARSER_MODULES[s] for s in PARSER_MODULES if any((FIXTURES / s).glob("*.in"))}
    assert sorted(set(PARSER_MODULES.values()) - proven) == []


def test_every_source_has_a_parser() -> None:
    # the loader relies on this: a collected source is always parsed (or marked unreadable)
    from netsnap.sources import SOURCES

    for source in SOURCES:
        assert callable(parser_for(source.id)), source.id
