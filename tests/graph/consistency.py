"""The graph and the findings cannot disagree (issue 13): a check a finding names blocks no flow the
graph calls reachable; every blocker of a blocked flow is named by a finding or listed as unexplained;
and `trace` on a required flow gives the graph's verdict."""

from __future__ import annotations

from netsnap.engine.findings import AnalysisResult
from netsnap.model import Snapshot
from netsnap.secgroups.model import SecurityGroups
from netsnap.trace.engine import TraceEngine


def assert_consistent(snapshot: Snapshot, result: AnalysisResult, groups: SecurityGroups | None = None,
                      allowed_unexplained: frozenset[str] = frozenset()) -> None:
    on_path = {s.check for f in result.flows for s in f.blockers} | {d.check for f in result.flows for d in f.doubts}
    for finding in result.findings:
        for check in finding.checks:
            assert check in on_path, f"{finding.anchor} names {check}, which no required flow meets"
            for flow in result.flows:
                if check in {s.check for s in flow.blockers}:
                    assert flow.verdict != "reachable", f"{finding.anchor} blocks {flow.id}, which the graph delivers"
    by_check = {c: f.anchor for f in result.findings for c in f.checks}
    for flow in result.flows:
        if flow.verdict == "unreachable":
            assert flow.blockers, f"{flow.id}: unreachable without a blocking step"
        for step in flow.blockers:
            named = step.check in by_check
            assert named == (step.check not in flow.unexplained), (flow.id, step.check)
            if not named:
                assert step.check in allowed_unexplained, f"{flow.id}: {step.check} ({step.detail}) has no finding"
    engine = TraceEngine(snapshot, groups)
    for flow in result.flows:
        if flow.kind == "overlay-in":
            continue  # it starts outside the snapshot: no `trace` command asks it
        again = engine.trace(flow.src_host, flow.dst_ip, flow.proto, flow.port, src_ip=flow.src_ip)
        assert again.verdict == flow.verdict, f"{flow.id}: trace says {again.verdict}, the graph {flow.verdict}"
