"""The paste corpus (fixtures/paste/corpus, real tool output and flannel's own log statements) meets its goals.

A behaviour test, not a timing one: every format recognised, >= 98% of the lines understood, no silent
misread (a fact of truth.json the parsed model contradicts), the records parsed equal to the true
count, and >= 95% of flannel's error and warning lines classified with the right meaning.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> list:  # type: ignore[type-arg]
    spec = importlib.util.spec_from_file_location("paste_corpus", ROOT / "bench" / "paste_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["paste_corpus"] = module
    spec.loader.exec_module(module)
    return module.measure()  # type: ignore[no-any-return]


def test_every_file_of_every_format_is_recognised(results: list) -> None:  # type: ignore[type-arg]
    assert [r.path for r in results if not r.recognised] == []
    assert len({r.format for r in results}) >= 20


def test_lines_understood(results: list) -> None:  # type: ignore[type-arg]
    lines = sum(r.lines for r in results)
    understood = sum(r.understood for r in results)
    assert understood >= 0.98 * lines, [(r.path, r.understood, r.lines) for r in results if r.understood < r.lines]


def test_no_silent_misread_and_true_record_counts(results: list) -> None:  # type: ignore[type-arg]
    assert {r.path: r.misreads for r in results if r.misreads} == {}
    assert {r.path: r.records for r in results if any(p != t for p, t in r.records.values())} == {}


def test_flannel_errors_and_warnings_classified(results: list) -> None:  # type: ignore[type-arg]
    total = sum(r.to_classify for r in results)
    right = sum(r.classified for r in results)
    assert total >= 25 and right >= 0.95 * total, [w for r in results for w in r.wrong]
