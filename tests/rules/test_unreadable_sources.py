"""Never a false all-clear (issue 12): for every rule and every fact it requires, make every source that
carries the fact unreadable — garbage, truncated to its first line, or deleted — and the rule must be
"not evaluated" on that host, never "passed". Garbage and deletions get a fresh manifest (as if the host
had printed that); a truncation keeps the collector's manifest, whose sha256 no longer matches (an upload
or a copy cut short)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from netsnap.combine.coverage import CARRIERS
from netsnap.engine.discovery import all_rules
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.sources import BY_ID
from tests.rules.bundles import write_manifest

FIX = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLES = {"healthy": ["healthy/master", "healthy/node1"], "incident-a": ["incident-a/master", "incident-a/node1"]}
GARBAGE = "%% this is not the output you are looking for %%\n" * 6


def _mutate(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "garbage":
        path.write_text(GARBAGE)
    else:
        first = path.read_text(errors="replace").splitlines()[:1]
        path.write_text("\n".join(first) + "\n")


CASES = [(r.meta.id, fact, how, name) for r in all_rules() for fact in r.meta.requires
         for how in ("garbage", "header", "deleted") for name in BUNDLES]


@pytest.mark.parametrize(("rule_id", "fact", "how", "bundle"), CASES,
                         ids=[f"{r}-{f}-{h}-{b}" for r, f, h, b in CASES])
def test_unreadable_required_fact_is_not_evaluated(rule_id: str, fact: str, how: str, bundle: str,
                                                    tmp_path: Path) -> None:
    paths = []
    touched = False
    for rel in BUNDLES[bundle]:
        dest = tmp_path / Path(rel).name
        shutil.copytree(FIX / rel, dest)
        if dest.name == "master":
            for sid in CARRIERS[fact]:
                src = BY_ID.get(sid)
                if src is not None and src.path and (dest / src.path).is_file():
                    _mutate(dest / src.path, how)
                    touched = True
            if how != "header":
                write_manifest(dest)
        paths.append(str(dest))
    if not touched:
        pytest.skip(f"{bundle} master has no source for {fact}")
    result = run_rules(load_snapshot(paths), only=[rule_id])
    (run,) = [r for r in result.rule_runs if r.rule == rule_id]
    on_master = [n for n in result.not_evaluated if n.rule == rule_id and "master" in n.hosts]
    assert "master" not in run.hosts or run.status != "passed", (run, result.not_evaluated)
    assert on_master and fact in on_master[0].missing, (run.status, [n.reason for n in result.not_evaluated])
