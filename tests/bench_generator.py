"""The benchmark's node generator (bench/generate.py, not a package) for tests that compare lazy and eager
paths on generated kube-proxy nodes, route tables and journals."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_generate() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        import generate
    finally:
        sys.path.remove(str(BENCH))
    return generate
