"""`netsnap inventory` through typer's CliRunner: text, stable JSON, one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.sources import SOURCES
from tests.bundle.tarbuild import collector_files, write_tar

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reader"
SOS = FIXTURES / "sosreport" / "sosreport-worker2-2026-11-26-qwerty"
LOOSE = FIXTURES / "loose" / "ticket-4711"

runner = CliRunner()
ROUTE_N = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"


def test_json_lists_every_source_with_its_state(tmp_path: Path) -> None:
    tgz = write_tar(tmp_path / "node1.tgz", collector_files("netsnap-node1-20261126T100000Z"))
    result = runner.invoke(app, ["inventory", str(tgz), str(SOS), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    collector, sos = data["bundles"]
    assert [r["id"] for r in collector["sources"]] == [s.id for s in SOURCES]
    states = {r["id"]: r["state"] for r in collector["sources"]}
    assert states["route_n"] == "ok"
    assert states["flannel_journal"] == "truncated"
    assert states["iptables_save"] == "command missing"
    assert states["dmesg"] == "timed out"
    assert states["ip_rule"] == "failed"
    assert states["ipset"] == "empty"
    assert states["net_conf"] == "not collected"
    assert states["ip_addr"] == "not collected"
    assert (collector["host"], collector["kind"], collector["found"]) == ("node1", "collector", 3)
    assert collector["missing"] == len(SOURCES) - 3
    route = next(r for r in collector["sources"] if r["id"] == "route_n")
    assert route["file"] == "routes/route-n" and route["size"] > 0 and route["command"] == "route -n"
    assert sos["host"] == "worker2.example.com"
    journal = next(r for r in sos["sources"] if r["id"] == "flannel_journal")
    assert journal["lines_kept"] == 6


def test_json_is_stable() -> None:
    first = runner.invoke(app, ["inventory", str(LOOSE), "--format", "json"]).stdout
    second = runner.invoke(app, ["inventory", str(LOOSE), "--format", "json"]).stdout
    assert first == second
    assert json.loads(first)["bundles"][0]["problems"] == ["unrecognised file notes.txt"]


def test_text_shows_found_missing_and_problems() -> None:
    result = runner.invoke(app, ["inventory", str(SOS)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "worker2.example.com  (sosreport:" in out
    assert "10 sources found" in out
    assert "\x1b[" not in out  # no colour when not on a terminal
    lines = out.splitlines()
    assert any(line.startswith("route_n") and "command missing" in line and "127" in line for line in lines)
    assert any(line.startswith("bridge_fdb") and "timed out" in line for line in lines)
    assert any(line.startswith("ip_neigh") and "truncated" in line for line in lines)
    assert any(line.startswith("  not collected:") and "uname" in line for line in lines)
    assert "problems:" in out and "skipped 2 symlinks" in out


def test_bundle_text_with_markup_is_printed_literally(tmp_path: Path) -> None:
    root = tmp_path / "[bold]evil"
    root.mkdir()
    (root / "[red]x.txt").write_text("just a note\n")
    (root / "route.txt").write_text(ROUTE_N)
    result = runner.invoke(app, ["inventory", str(root)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "unrecognised file [red]x.txt" in result.stdout
    assert "[bold]evil" in result.stdout


def test_unreadable_bundle_is_one_line_on_stderr_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "node9.tgz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    result = runner.invoke(app, ["inventory", str(SOS), str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"netsnap: error: {bad}: corrupt or truncated archive")


def test_missing_bundle_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inventory", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_bad_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["inventory", str(LOOSE), "--format", "xml"])
    assert result.exit_code == 2


def test_text_caps_a_long_problem_list(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(45):
        (root / f"note{i:02}.txt").write_text("hello\n")
    (root / "route.txt").write_text(ROUTE_N)
    result = runner.invoke(app, ["inventory", str(root)], env={"COLUMNS": "200"})
    assert "unrecognised file note39.txt" in result.stdout
    assert "note40.txt" not in result.stdout
    assert "... and 5 more (see --format json)" in result.stdout
    data = json.loads(runner.invoke(app, ["inventory", str(root), "--format", "json"]).stdout)
    assert len(data["bundles"][0]["problems"]) == 45


def test_a_folder_with_nothing_recognised_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "ticket.txt").write_text("Customer says the network is slow.\n")
    result = runner.invoke(app, ["inventory", str(root)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"netsnap: error: no network data found in {root}: looked for a netsnap collector bundle "
        "(manifest.json), a sosreport (sos_commands/) or command output netsnap recognises (ip route, ip addr, "
        "iptables-save, flannel's log...); read 1 files, none recognised\n")
