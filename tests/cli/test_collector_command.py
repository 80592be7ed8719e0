"""`netsnap collector`: the collector script that ships with netsnap, printed or written for a customer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.cli.collector import script_text

SCRIPT = Path(__file__).parents[2] / "collectors" / "netsnap-collect.sh"
runner = CliRunner()


def test_the_shipped_script_is_the_collector() -> None:
    assert script_text() == SCRIPT.read_text(encoding="utf-8")


def test_print_writes_the_script_to_stdout() -> None:
    res = runner.invoke(app, ["collector", "--print"])
    assert res.exit_code == 0
    assert res.stdout == SCRIPT.read_text(encoding="utf-8")
    assert res.stdout.startswith("#!/bin/sh\n")


def test_write_saves_an_executable_copy(tmp_path: Path) -> None:
    res = runner.invoke(app, ["collector", "--write", str(tmp_path)])
    assert res.exit_code == 0, res.output
    target = tmp_path / "netsnap-collect.sh"
    assert res.stdout.strip() == str(target)
    assert target.read_bytes() == SCRIPT.read_bytes()
    assert os.stat(target).st_mode & stat.S_IXUSR
    assert "run it as root" in res.stderr
    res = runner.invoke(app, ["collector", "--write", str(tmp_path / "new" / "dir")])
    assert res.exit_code == 0 and (tmp_path / "new" / "dir" / "netsnap-collect.sh").is_file()


def test_unwritable_target_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(app, ["collector", "--write", str(blocker / "sub")])
    assert res.exit_code == 2
    assert res.stderr.startswith("netsnap: error: ") and len(res.stderr.strip().splitlines()) == 1


def test_without_options_it_says_how_to_use_it() -> None:
    res = runner.invoke(app, ["collector"])
    assert res.exit_code == 0
    assert "netsnap collector --write ." in res.stdout and "as root" in res.stdout
    assert "netsnap analyze" in res.stdout
