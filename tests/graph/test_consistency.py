"""The consistency property on every fixture bundle set: the incidents, the healthy cluster, and every
rule case (overlaid on the healthy cluster) with all rules running."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.secgroups.attach import attach
from netsnap.secgroups.model import SecurityGroups
from tests.graph.consistency import assert_consistent
from tests.rules.bundles import build_case, cases

FIX = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.parametrize(("bundles", "specs"), [
    ([FIX / "incident-a" / "master", FIX / "incident-a" / "node1"],
     [f"master={FIX / 'incident-a' / 'sg-master.json'}"]),
    ([FIX / "incident-a" / "master", FIX / "incident-a" / "node1"], []),
    ([FIX / "incident-a" / "master"], []),
    ([FIX / "incident-b" / "host"], []),
    ([FIX / "healthy" / "master", FIX / "healthy" / "node1"], []),
], ids=["incident-a-sg", "incident-a", "incident-a-master-alone", "incident-b", "healthy"])
def test_fixtures(bundles: list[Path], specs: list[str]) -> None:
    snap = load_snapshot([str(b) for b in bundles])
    groups: SecurityGroups | None = None
    for spec in specs:
        groups = attach(snap, spec, groups)
    assert_consistent(snap, run_rules(snap, security_groups=groups), groups)


# NS310's cases give master the host-gw backend while node1 keeps VXLAN (what NS310 needs to see): node1's
# VXLAN packets then find no VXLAN device on master, a blocker no rule names (mixed backends)
MIXED_BACKENDS = frozenset({"master|decap|8472|1"})


@pytest.mark.parametrize(("rule_id", "case"), cases())
def test_rule_cases(rule_id: str, case: str, tmp_path: Path) -> None:
    bundles, specs = build_case(rule_id, case, tmp_path)
    snap = load_snapshot(bundles)
    groups: SecurityGroups | None = None
    for spec in specs:
        groups = attach(snap, spec, groups)
    allowed = MIXED_BACKENDS if rule_id == "NS310" else frozenset()
    assert_consistent(snap, run_rules(snap, security_groups=groups), groups, allowed)
