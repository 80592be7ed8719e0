"""`netsnap analyze` and `netsnap schema` through typer's CliRunner.

The pipeline (loading, rules) is replaced by the hand-made incident A so these tests check the
command's own behaviour: formats, output files, filters, exit codes and one-line errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import netsnap.cli.analyze as analyze_cmd
from netsnap.cli.app import app
from netsnap.engine.findings import AnalysisResult
from netsnap.model import Snapshot
from netsnap.report.json_output import analyze_schema
from tests.report import builders

runner = CliRunner()


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, object]:
    seen: dict[str, object] = {}

    def fake_load(paths: list[str], members: dict[str, dict[str, str]] | None) -> Snapshot:
        seen["paths"] = paths
        if members is not None:
            members.update(builders.RAW_FILES)
        return builders.snapshot()

    def fake_analyse(snapshot: Snapshot, groups: object, rules_dirs: list[str], only: list[str],
                     skip: list[str], graph: object = None) -> AnalysisResult:
        seen.update(groups=groups, rules_dirs=rules_dirs, only=only, skip=skip)
        res = builders.result()

        def chosen(rule: str, cause: str) -> bool:  # what the engine's selector keeps, on the hand-made result
            keys = {rule.lower(), cause.lower()}
            return (not only or bool(keys & {t.lower() for t in only})) and not keys & {t.lower() for t in skip}

        return res.model_copy(update={"findings": [f for f in res.findings if chosen(f.rule, f.cause)]})

    monkeypatch.setattr(analyze_cmd, "load", fake_load)
    monkeypatch.setattr(analyze_cmd, "analyse", fake_analyse)
    monkeypatch.chdir(tmp_path)
    return seen


def test_text_to_stdout_and_exit_1_on_errors(pipeline: dict[str, object]) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", "n.tgz"])
    assert res.exit_code == 1, res.output
    assert "3 problems break master → node1 pods" in res.stdout
    assert "\x1b[" not in res.stdout
    assert pipeline["paths"] == ["m.tgz", "n.tgz"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--fail-on", "none"], 0),
        (["--fail-on", "error"], 1),
        (["--only", "NS101"], 0),
        (["--only", "NS101", "--fail-on", "info"], 1),
        (["--skip", "NS201,NS301", "--skip", "vxlan-port-blocked"], 0),
        (["--min-severity", "warning", "--fail-on", "info", "--skip", "NS201,NS301,NS302"], 0),
    ],
)
def test_exit_codes_follow_fail_on_and_filters(pipeline: dict[str, object], args: list[str], code: int) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", *args])
    assert res.exit_code == code, res.output


def test_filters_reach_the_engine(pipeline: dict[str, object]) -> None:
    runner.invoke(app, ["analyze", "m.tgz", "--only", "NS201,iptables-reject", "--skip", "NS1", "--rules-dir", "x"])
    assert pipeline["only"] == ["NS201", "iptables-reject"]
    assert pipeline["skip"] == ["NS1"]
    assert pipeline["rules_dirs"] == ["x"]


def test_json_to_stdout_validates(pipeline: dict[str, object]) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", "--format", "json", "--only", "NS201"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, analyze_schema())
    assert [f["rule"] for f in doc["findings"]] == ["NS201"]


@pytest.mark.parametrize(
    ("name", "marker"),
    [("r.html", "<!DOCTYPE html>"), ("r.json", '"format": "netsnap-analyze/1"'), ("r.txt", "3 problems break")],
)
def test_format_inferred_from_output_suffix(pipeline: dict[str, object], tmp_path: Path, name: str,
                                            marker: str) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", "-o", name, "--fail-on", "none"])
    assert res.exit_code == 0, res.output
    assert marker in (tmp_path / name).read_text(encoding="utf-8")
    assert res.stdout == ""


def test_html_report_carries_security_group_label(pipeline: dict[str, object], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sg = tmp_path / "sg-master.json"
    sg.write_text("[]", encoding="utf-8")
    attached: list[list[str]] = []
    monkeypatch.setattr(analyze_cmd, "attach_security_groups", lambda snapshot, specs: attached.append(specs))
    res = runner.invoke(app, ["analyze", "m.tgz", "--security-group", f"master={sg}", "-o", "r.html", "-q"])
    assert res.exit_code == 1, res.output
    assert attached == [[f"master={sg}"]]
    assert "SG sg-master.json" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_html_needs_an_output_file(pipeline: dict[str, object]) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", "--format", "html"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "netsnap: error: --format html needs -o FILE"


def test_bad_choice_is_a_usage_error(pipeline: dict[str, object]) -> None:
    assert runner.invoke(app, ["analyze", "m.tgz", "--fail-on", "sometimes"]).exit_code == 2
    assert runner.invoke(app, ["analyze", "m.tgz", "--format", "pdf"]).exit_code == 2
    assert runner.invoke(app, ["analyze"]).exit_code == 2


def test_missing_bundle_is_one_line_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["analyze", str(tmp_path / "nope.tgz")])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert lines == [f"netsnap: error: {tmp_path / 'nope.tgz'}: no such file or directory"]


def test_bad_security_group_spec_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(analyze_cmd, "load", lambda paths, members: builders.snapshot())
    for spec in ("no-equals-sign", f"ghost={tmp_path / 'sg.json'}", f"master={tmp_path / 'missing.json'}"):
        res = runner.invoke(app, ["analyze", "m.tgz", "--security-group", spec])
        assert res.exit_code == 2, (spec, res.output)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("netsnap: error: "), lines
        assert "Traceback" not in res.output


def test_internal_error_is_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(paths: list[str], members: dict[str, dict[str, str]] | None = None) -> Snapshot:
        raise KeyError("surprise")

    monkeypatch.setattr(analyze_cmd, "load", broken)
    res = runner.invoke(app, ["analyze", "m.tgz"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "netsnap: error: internal error: KeyError: 'surprise' (--debug shows the traceback)"
    res = runner.invoke(app, ["analyze", "m.tgz", "--debug"])
    assert isinstance(res.exception, KeyError)


def test_schema_prints_model_and_analyze_schemas() -> None:
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    model = json.loads(res.stdout)
    assert model == Snapshot.model_json_schema()
    assert json.loads(runner.invoke(app, ["schema", "--output", "model"]).stdout) == model
    res = runner.invoke(app, ["schema", "--output", "analyze"])
    assert res.exit_code == 0 and json.loads(res.stdout) == analyze_schema()
    assert runner.invoke(app, ["schema", "--output", "nonsense"]).exit_code == 2


def test_unwritable_output_is_one_line_exit_2(pipeline: dict[str, object], tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "r.json"
    res = runner.invoke(app, ["analyze", "m.tgz", "-o", str(target)])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"netsnap: error: {target}: cannot write: No such file or directory"


def test_renderer_failure_is_one_line_exit_2(pipeline: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: AnalysisResult) -> str:
        raise ValueError("bad\nsecond line")

    monkeypatch.setattr(analyze_cmd, "render_json", broken)
    res = runner.invoke(app, ["analyze", "m.tgz", "--format", "json"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "netsnap: error: internal error: ValueError: bad (--debug shows the traceback)"
    assert res.stdout == ""


def test_quiet_silences_stderr(pipeline: dict[str, object]) -> None:
    loud = runner.invoke(app, ["analyze", "m.tgz", "-o", "r.json"])
    assert loud.stderr.strip() == "report written to r.json"
    quiet = runner.invoke(app, ["analyze", "m.tgz", "-o", "r.json", "--quiet"])
    assert quiet.stderr == ""


@pytest.mark.parametrize("name", ["report.pdf", "report.docx"])
def test_an_output_suffix_netsnap_does_not_write_is_a_usage_error(pipeline: dict[str, object], tmp_path: Path,
                                                                   name: str) -> None:
    res = runner.invoke(app, ["analyze", "m.tgz", "-o", name])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"netsnap: error: -o {name}: netsnap writes .html, .json or .txt")
    assert not (tmp_path / name).exists()
    forced = runner.invoke(app, ["analyze", "m.tgz", "-o", name, "--format", "json", "--fail-on", "none"])
    assert forced.exit_code == 0 and '"format": "netsnap-analyze/1"' in (tmp_path / name).read_text()


def test_html_header_names_the_time_version_and_redacted_command(pipeline: dict[str, object], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764150000")
    res = runner.invoke(app, ["analyze", "m.tgz", "https://u:hunter2@example.invalid/n.tgz", "-o", "r.html",
                              "--fail-on", "none"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<dt>generated</dt><dd>2025-11-26T09:40:00Z</dd>" in html
    assert "<dt>netsnap</dt><dd>0.1.0 · rules test-1</dd>" in html
    assert ("netsnap analyze m.tgz https://u:REDACTED@example.invalid/n.tgz -o r.html --fail-on none" in html
            and "hunter2" not in html)
