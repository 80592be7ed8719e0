"""The engine: metadata validation, fact checks (not evaluated, never passed), selection, failures,
ordering, extra rule directories and entry points."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from netsnap.engine import discovery
from netsnap.engine.discovery import RuleLoadError, discover
from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import CAUSES, Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext
from netsnap.engine.run import run_rules, sort_findings
from netsnap.model import BundleInfo, Host, Identity, Snapshot, SourceState, SourceStatus

DOC = {"what": "w", "why": "y", "example": "e", "fix": "f"}


def meta(**kw: Any) -> RuleMeta:
    base: dict[str, Any] = dict(
        id="NS901", name="test-rule", title="t", cause="iptables-reject", severity=Severity.ERROR,
        confidence=Confidence.HIGH, category=Category.FIREWALL, **DOC,
    )
    base.update(kw)
    return RuleMeta(**base)


def host(name: str, ok: Iterable[str] = (), **states: SourceState) -> Host:
    sources = {s: SourceStatus(source=s, state=SourceState.OK, file=f"x/{s}") for s in ok}
    sources.update({s: SourceStatus(source=s, state=st) for s, st in states.items()})
    return Host(name=name, bundle=BundleInfo(path=f"/b/{name}", kind="collector"), identity=Identity(hostname=name),
                sources=sources)


class Probe(Rule):
    """Fires once per host it runs on, with an impact taken from the host name's length."""

    def __init__(self, m: RuleMeta, fail: bool = False) -> None:
        type(self).meta = m  # each test builds its own subclass below
        self.fail = fail

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if self.fail:
            raise ValueError("boom")
        targets = [ctx.host] if ctx.host else ctx.hosts
        for h in targets:
            assert h is not None
            yield self.finding(hosts=[h.name], explanation="x", key=h.name, impact=len(h.name))


def probe(fail: bool = False, **kw: Any) -> Rule:
    cls = type("P" + kw.get("id", "NS901"), (Probe,), {})
    return cls(meta(**kw), fail)  # type: ignore[no-any-return]


@pytest.mark.parametrize("bad", [
    {"cause": "not-a-cause"}, {"id": "X101"}, {"id": "NS01"}, {"name": "Bad Name"},
    {"requires": ("no_such_fact",)}, {"requires": ("ip_route",)}, {"requires_any": (("routes", "nope"),)},
    {"requires_any": ((),)},
    {"why": "  "}, {"min_hosts": 0},
])
def test_meta_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        meta(**bad)


def test_cause_vocabulary_is_one_table() -> None:
    from netsnap.engine.causes import CAUSES as TABLE

    assert tuple(TABLE) == CAUSES and len(set(CAUSES)) == len(CAUSES) == 19
    assert {r.meta.cause for r in discovery.all_rules()} <= set(CAUSES)
    assert all(c.breaks and c.impact > 0 for c in TABLE.values())


def test_missing_facts_are_not_evaluated_never_passed() -> None:
    r = probe(requires=("sysctls",), requires_any=(("routes", "policy_rules"),))
    snap = Snapshot(hosts=[
        host("a", ok=["sysctl", "route_n"]),
        host("b", ok=["ip_route"], sysctl=SourceState.COMMAND_MISSING),
        host("c", ok=["sysctl"]),
    ])
    res = run_rules(snap, rules=[r])
    assert [f.hosts for f in res.findings] == [["a"]]  # route -n supplies the routes fact as well as ip route
    ne = {n.hosts[0]: n for n in res.not_evaluated}
    assert set(ne) == {"b", "c"}
    assert ne["b"].missing == ["sysctls"]
    assert ne["b"].reason == "missing sysctls (kernel parameters (sysctl)): sysctl: command missing"
    assert ne["c"].missing == ["routes", "policy_rules"]
    assert ne["c"].reason.startswith("missing routes (the routing tables): route_n: not collected; "
                                     "proc_net_route: not collected; ip_route: not collected | policy_rules")
    assert res.rule_runs[0].status == "fired" and res.rule_runs[0].hosts == ["a"]


def test_partly_understood_source_is_not_evaluated() -> None:
    from netsnap.model import UnparsedLine

    h = host("a", ok=["iptables_list"])
    st = h.sources["iptables_list"]
    st.lines, st.parsed, st.expected = 60, 0, 57
    st.unparsed = [UnparsedLine(line=n, text="ACCEPT all -- anywhere anywhere") for n in range(1, 58)]
    res = run_rules(Snapshot(hosts=[h]), rules=[probe(requires=("firewall",))])
    assert not res.findings and res.rule_runs[0].status == "not-evaluated"
    assert "iptables_list: partly understood (3 of 60 lines understood in x/iptables_list, 0 of 57 records)" in \
        res.not_evaluated[0].reason


def test_unreadable_source_counts_as_missing() -> None:
    h = host("a", ok=["sysctl"])
    h.sources["sysctl"].state = SourceState.UNREADABLE  # what the loader records when a parser fails
    res = run_rules(Snapshot(hosts=[h]), rules=[probe(requires=("sysctls",))])
    assert not res.findings and "unreadable" in res.not_evaluated[0].reason
    assert res.rule_runs[0].status == "not-evaluated"


def test_snapshot_scope_min_hosts() -> None:
    r = probe(scope="snapshot", min_hosts=2, requires=("link_details",))
    one = run_rules(Snapshot(hosts=[host("a", ok=["ip_link"]), host("b")]), rules=[r])
    assert not one.findings and any("at least 2 hosts" in n.reason for n in one.not_evaluated)
    two = run_rules(Snapshot(hosts=[host("a", ok=["ip_link"]), host("bb", ok=["ip_link"])]), rules=[r])
    assert [f.hosts[0] for f in two.findings] == ["bb", "a"]  # ordered by impact


def test_only_skip_and_failure() -> None:
    rules = [probe(id="NS901"), probe(id="NS902", name="other", cause="mtu-mismatch", fail=True)]
    snap = Snapshot(hosts=[host("a")])
    assert [r.rule for r in run_rules(snap, rules=rules, only=["ns901"]).rule_runs] == ["NS901"]
    assert [r.rule for r in run_rules(snap, rules=rules, skip=["mtu-mismatch"]).rule_runs] == ["NS901"]
    res = run_rules(snap, rules=rules)
    assert [f.rule for f in res.findings] == ["NS901"]  # a broken rule does not hide the others
    failed = [n for n in res.not_evaluated if n.rule == "NS902"]
    assert failed and failed[0].reason == "rule failed: ValueError: boom"


def test_sort_findings_by_severity_then_impact() -> None:
    r = probe()
    fs = [
        r.finding(hosts=["h"], explanation="", key="low", impact=1),
        r.finding(hosts=["h"], explanation="", key="warn", impact=9, severity=Severity.WARNING),
        r.finding(hosts=["h"], explanation="", key="err", impact=9),
    ]
    assert [f.key for f in sort_findings(fs)] == ["err", "low", "warn"]


def test_evidence_is_capped_and_keys_slugged() -> None:
    from netsnap.model.evidence import Evidence

    f = probe().finding(hosts=["h", "h"], explanation="", key="Master/INPUT 7",
                        evidence=[Evidence(host="h", file="f", line=i) for i in range(30)])
    assert len(f.evidence) == 21 and "10 more" in f.evidence[-1].text
    assert f.key == "master-input-7" and f.hosts == ["h"] and f.anchor == "NS901-master-input-7"


RULE_FILE = '''
from netsnap.engine.findings import Confidence, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule


class Extra(Rule):
    meta = RuleMeta(id="{id}", name="extra-rule", title="extra", cause="conntrack-full", severity=Severity.INFO,
                    confidence=Confidence.LOW, category=Category.KERNEL, what="w", why="y", example="e", fix="f")

    def check(self, ctx):
        yield self.finding(hosts=[ctx.the_host.name], explanation="extra ran", key="k")


rule = Extra()
'''


def test_rules_dir_loaded_by_path(tmp_path: Path) -> None:
    (tmp_path / "ns950_extra.py").write_text(RULE_FILE.format(id="NS950"))
    (tmp_path / "_helper.py").write_text("raise RuntimeError('helpers are not rules')\n")
    ids = [lr.rule.meta.id for lr in discover([tmp_path])]
    assert "NS950" in ids and "NS101" in ids
    res = run_rules(Snapshot(hosts=[host("a")]), rules_dirs=[tmp_path], only=["NS950"])
    assert [f.explanation for f in res.findings] == ["extra ran"]


def test_rules_dir_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import nonexistent_module_xyz\n")
    with pytest.raises(RuleLoadError, match=r"broken\.py: ModuleNotFoundError") as exc:
        discover([tmp_path])
    assert "\n" not in str(exc.value)
    with pytest.raises(RuleLoadError, match="not found"):
        discover([tmp_path / "missing"])


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.py").write_text(RULE_FILE.format(id="NS101"))
    with pytest.raises(RuleLoadError, match="duplicate rule id NS101"):
        discover([tmp_path])


def test_entry_points(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "ep_rules_mod.py").write_text(RULE_FILE.format(id="NS960"))
    monkeypatch.syspath_prepend(str(tmp_path))

    class EP:
        name, value = "extra", "ep_rules_mod:rule"

        def load(self) -> object:
            import ep_rules_mod  # type: ignore[import-not-found]

            return ep_rules_mod.rule

    monkeypatch.setattr(discovery, "entry_points", lambda group: [EP()] if group == "netsnap.rules" else [])
    assert "NS960" in [lr.rule.meta.id for lr in discover()]
    assert [lr.origin for lr in discover() if lr.rule.meta.id == "NS960"] == ["entry-point:extra"]


def test_invalid_metadata_in_a_rule_file_is_one_line(tmp_path: Path) -> None:
    text = RULE_FILE.format(id="NS950").replace('cause="conntrack-full"', 'cause="nope"')
    (tmp_path / "bad_meta.py").write_text(text)
    with pytest.raises(RuleLoadError, match=r"bad_meta\.py: ValidationError: .*cause 'nope' is not in") as exc:
        discover([tmp_path])
    assert "\n" not in str(exc.value)
