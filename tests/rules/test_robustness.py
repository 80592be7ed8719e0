"""No rule may crash on any bundle the project ships (sosreports, loose files, hostile inputs): a crash
would turn into a "rule failed" not-evaluated entry and hide that rule's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.bundle.model import BundleError
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from tests.rules.bundles import FIXTURES


def _bundles() -> list[Path]:
    out: list[Path] = []
    for group in ("reader/sosreport", "reader/loose", "hostile", "incident-a", "incident-b", "healthy"):
        base = FIXTURES / group
        if (base / "manifest.json").is_file():
            out.append(base)
        elif base.is_dir():
            out.extend(sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")))
    return out


@pytest.mark.parametrize("bundle", _bundles(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_rule_crashes(bundle: Path) -> None:
    try:
        snapshot = load_snapshot([str(bundle)])
    except BundleError:
        pytest.skip("the reader refuses this bundle (its own tests cover that)")
    result = run_rules(snapshot)
    crashed = [f"{n.rule}: {n.reason}" for n in result.not_evaluated if n.reason.startswith("rule failed")]
    assert not crashed
    assert result.verdict
