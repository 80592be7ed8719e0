"""The analyze JSON: stable shape, sorted, validated against its own JSON Schema."""

from __future__ import annotations

import json

import jsonschema

from netsnap.engine.findings import AnalysisResult
from netsnap.report.json_output import analyze_schema, render_json
from tests.report import builders


def test_json_validates_against_schema() -> None:
    doc = json.loads(render_json(builders.result()))
    jsonschema.Draft202012Validator.check_schema(analyze_schema())
    jsonschema.validate(doc, analyze_schema())


def test_schema_rejects_a_broken_document() -> None:
    doc = json.loads(render_json(builders.result()))
    doc["findings"][0]["severity"] = "catastrophic"
    validator = jsonschema.Draft202012Validator(analyze_schema())
    assert any("catastrophic" in e.message for e in validator.iter_errors(doc))


def test_json_has_the_documented_keys() -> None:
    doc = json.loads(render_json(builders.result()))
    assert doc["format"] == "netsnap-analyze/1"
    assert {"findings", "not_evaluated", "hosts", "verdict", "summary", "rule_runs", "traces"} <= set(doc)
    f = doc["findings"][0]
    assert {"rule", "cause", "severity", "hosts", "title", "evidence", "remediation"} <= set(f)
    assert f["evidence"][0] == {"host": "master", "file": "flannel/journal", "line": 3,
                                "text": "Using 172.16.0.4 as external interface"}
    assert [x["rule"] for x in doc["findings"]] == ["NS301", "NS201", "NS302", "NS101"]
    assert doc["not_evaluated"] == [{"rule": "NS405", "title": "VXLAN checksum offload bug", "hosts": ["master"],
                                     "missing": ["ethtool"], "reason": "command missing: ethtool -k flannel.1"}]
    assert doc["summary"]["error"] == 3
    assert doc["traces"][0]["hops"][2]["action"] == "deny"


def test_json_is_deterministic_and_sorted() -> None:
    a, b = render_json(builders.result()), render_json(builders.result())
    assert a == b
    assert list(json.loads(a)) == sorted(json.loads(a))


def test_traces_are_typed_so_a_malformed_one_cannot_reach_the_renderers() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        builders.result().model_copy(update={"traces": [{"src_host": "x"}]}).model_validate(
            {**builders.result().model_dump(), "traces": [{"src_host": "x"}]})


def test_empty_result_is_valid() -> None:
    doc = json.loads(render_json(AnalysisResult(netsnap_version="0", rules_version="0")))
    jsonschema.validate(doc, analyze_schema())
    assert doc["findings"] == [] and doc["verdict"] == "No problem found (0 checks ran)"


def test_new_engine_fields_do_not_leak_into_or_break_the_output() -> None:
    from netsnap.engine.findings import HostSummary
    from netsnap.report.json_output import HostOut, _pick

    class GrownHostSummary(HostSummary):
        added_later: int = 7

    grown = GrownHostSummary(name="h", bundle="b", kind="collector")
    out = _pick(HostOut, grown)
    assert out.name == "h" and "added_later" not in out.model_dump()
