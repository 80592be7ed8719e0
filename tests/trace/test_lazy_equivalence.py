"""What issue 17 made lazy or unvalidated gives exactly what the eager, validated path gives.

- `ChainIndex` builds its index on the first `candidates()` call: every fixture snapshot's required
  flows (and the traces of the reachability graph) are the same as with every index built up front,
  and on a kube-proxy node a trace leaves most chains unindexed (the laziness is real).
- iptables-save's chains build their rules on first use (tests/parsers/test_iptables_lazy.py compares the
  parses): the whole analysis — required flows with their traces, findings, verdicts — is the same as
  with every rule built by the parser, on the fixture snapshots and a generated kube-proxy node.
- `route_n` builds its routes unvalidated (`slim_record`): each equals the validated Route of the same
  values, field by field and type by type, on every route_n fixture and on a generated table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsnap.engine.run import run_rules
from netsnap.graph.reachability import ReachabilityGraph
from netsnap.load import load_snapshot
from netsnap.model.routes import Route
from netsnap.parsers import iptables_save, route_n
from netsnap.trace.index import ChainIndex
from tests.bench_generator import bench_generate

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = [["healthy/master", "healthy/node1"], ["incident-a/master", "incident-a/node1"]]


def _flows(paths: list[str]) -> list[str]:
    snapshot = load_snapshot([str(ROOT / "fixtures" / p) for p in paths])
    graph = ReachabilityGraph(snapshot, None)
    return [repr(r) for r in graph.flows()]  # dataclasses: every field, traces and their steps included


@pytest.fixture
def eager_index(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lazy_init = ChainIndex.__init__

    def eager_init(self: ChainIndex, chain: object) -> None:
        lazy_init(self, chain)  # type: ignore[arg-type]
        self._build()

    monkeypatch.setattr(ChainIndex, "__init__", eager_init)
    yield


@pytest.mark.parametrize("paths", SNAPSHOTS, ids=["+".join(p) for p in SNAPSHOTS])
def test_lazy_chain_index_traces_like_the_eager_one(paths: list[str], request: pytest.FixtureRequest) -> None:
    lazy = _flows(paths)
    assert lazy
    request.getfixturevalue("eager_index")
    assert _flows(paths) == lazy



def test_a_trace_indexes_few_of_kube_proxys_chains(tmp_path: Path) -> None:
    generate = bench_generate()
    generate.analyze_node(tmp_path / "node", 300, 50, 0)
    snapshot = load_snapshot([str(tmp_path / "node")])
    graph = ReachabilityGraph(snapshot, None)
    graph.flows()
    views = graph.engine.hosts[snapshot.hosts[0].name].views
    made = sum(len(view._made) for view in views.values())  # ChainIndexes makes a ChainIndex when looked up
    assert 0 < made < sum(len(view) for view in views.values()) // 10, made
    chains = [ci for view in views.values() for ci in view.values()]
    assert len(chains) > 600
    built = sum(1 for ci in chains if ci._built)
    assert built < len(chains) // 10, built


def _route_n_inputs() -> list[tuple[str, str]]:
    fixtures = ROOT / "tests" / "parsers" / "fixtures" / "route_n"
    out = [(p.name, p.read_bytes().decode("utf-8", errors="replace")) for p in sorted(fixtures.glob("*.in"))]
    out += [(p.name, p.read_text()) for p in sorted((ROOT / "fixtures").rglob("route-n"))]
    out.append(("generated", bench_generate().routes(500)[0]))
    return out


@pytest.mark.parametrize(("name", "text"), _route_n_inputs(), ids=[n for n, _ in _route_n_inputs()])
def test_unvalidated_routes_equal_validated_ones(name: str, text: str) -> None:
    result = route_n.parse(text, name)
    for route in result.items:
        values = {k: getattr(route, k) for k in Route.model_fields}
        checked = Route.model_validate(values)
        assert route == checked
        assert route.model_dump_json() == checked.model_dump_json()
        for field in Route.model_fields:
            assert type(getattr(route, field)) is type(getattr(checked, field)), field


def _analysis(paths: list[Path]) -> tuple[list[str], str]:
    graph = ReachabilityGraph(load_snapshot([str(p) for p in paths]), None)
    result = run_rules(graph.snapshot, graph=graph)
    return [repr(r) for r in graph.flows()], json.dumps(result.model_dump(mode="json"))


def test_lazy_rules_analyse_like_eager_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole analysis (required flows with their traces, every finding and verdict) is the same when
    iptables-save's chains are built on first use as when the parser builds every rule."""
    generate = bench_generate()
    generate.analyze_node(tmp_path / "node", 200, 40, 0)
    cases = [[ROOT / "fixtures" / p for p in paths] for paths in SNAPSHOTS] + [[tmp_path / "node"]]
    lazy = [_analysis(paths) for paths in cases]
    eager_parse = iptables_save._parse
    monkeypatch.setattr(iptables_save, "_parse",
                        lambda text, file, variant, lazy: eager_parse(text, file, variant, lazy=False))
    assert [_analysis(paths) for paths in cases] == lazy
    assert all(flows for flows, _ in lazy[:-1])  # the fixture clusters have required flows (the node alone none)
