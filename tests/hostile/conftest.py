"""The hostile corpus and its command matrix, built and run once per session and shared by the tests.

The fast corpus (every case but the big ones) runs when a test asks for `fast_matrix`; the slow one
(a million members, chains, routes; 100 MB lines) only when a `slow` test asks for `slow_matrix`.
Both live in one temp directory removed at the end of the session (with `rm -rf`: the corpus holds
trees deeper than PATH_MAX).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile import corpus
from tests.hostile.runner import Job, Run, Server, tree_state


@dataclass
class Matrix:
    """The cases of one corpus and every run of every command on them (by `case/label`)."""

    root: Path
    cases: dict[str, corpus.Case]
    runs: dict[str, Run] = field(default_factory=dict)
    before: dict[str, tuple[int, int]] = field(default_factory=dict)

    def of(self, label: str) -> list[Run]:
        return [r for i, r in self.runs.items() if i.split("/", 1)[1] == label]

    def run(self, case: str, label: str) -> Run:
        return self.runs[f"{case}/{label}"]


def _matrix(base: Path, *, slow: bool) -> Matrix:
    root = base / ("slow" if slow else "fast")
    built = corpus.build(root / "corpus", slow=slow, fast=not slow)
    m = Matrix(root=root / "corpus", cases={c.name: c for c in built})
    m.before = tree_state(m.root)
    good = str(m.root / "good-node1")
    jobs = [Job(id=f"{case.name}/{label}", argv=argv, workdir=root / "runs" / case.name / label, user=case.user)
            for case in built for label, argv in corpus.commands(case, good, "out")]
    server = Server(parallel=2)
    try:
        m.runs = {run.job.id: run for run in server.run(jobs)}
    finally:
        server.close()
    return m


@pytest.fixture(scope="session")
def hostile_base() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="netsnap-hostile-"))
    base.chmod(0o755)
    yield base
    subprocess.run(["rm", "-rf", str(base)], check=False)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def fast_matrix(hostile_base: Path) -> Matrix:
    return _matrix(hostile_base, slow=False)


@pytest.fixture(scope="session")
def slow_matrix(hostile_base: Path) -> Matrix:
    return _matrix(hostile_base, slow=True)
