"""Help and errors of every command: no Python type tags, examples, fits 80 columns, one error prefix, and
`netsnap --help` / `--version` without importing the analysis (what makes them fast)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import COMMANDS, app

runner = CliRunner()
COMMAND_PATHS = [[c] for c in COMMANDS if c != "rules"] + [["rules"], ["rules", "list"], ["rules", "explain"],
                                                           ["rules", "docs"]]
TYPE_TAG = re.compile(r"<(bool|int|str|list\[[^\]]*\]|[a-z]+\|[a-z|]+|Path|path|float)>|\{[A-Z_ ]+\}")


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p))
def test_help_has_no_type_tags_and_fits_80_columns(path: list[str]) -> None:
    res = runner.invoke(app, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    assert not TYPE_TAG.search(res.stdout), TYPE_TAG.search(res.stdout)
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    assert res.stdout.startswith(f"Usage: netsnap {' '.join(path)}" if path else "Usage: netsnap")


@pytest.mark.parametrize("command", ["analyze", "trace", "diff", "inventory", "parse", "collector"])
def test_help_shows_examples_as_written(command: str) -> None:
    out = runner.invoke(app, [command, "--help"], terminal_width=80).stdout
    examples = out[out.index("Examples:"):].splitlines()[1:3]
    assert examples and all(line.strip().startswith(f"netsnap {command} ") for line in examples), examples
    assert len({len(line) - len(line.lstrip()) for line in examples}) == 1  # kept as written, not re-wrapped


def test_root_help_lists_commands_and_examples() -> None:
    out = runner.invoke(app, ["--help"], terminal_width=80).stdout
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", out, re.M), command
    assert "  netsnap analyze master.tgz node1.tgz -o report.html" in out
    assert "Exit codes: 0 nothing at or above --fail-on" in out


def _netsnap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netsnap", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "80"})


@pytest.mark.parametrize(("args", "message"), [
    (["analyze", "--nope"], "netsnap: error: No such option: --nope"),
    (["analyze", "x", "--fail-on", "sometimes"], "netsnap: error: Invalid value for '--fail-on'"),
    (["trace", "x", "--from", "a"], "netsnap: error: Missing option '--to'"),
    (["frobnicate"], "netsnap: error: No such command 'frobnicate'"),
    (["analyze", "/nonexistent/x.tgz"], "netsnap: error: /nonexistent/x.tgz: no such file or directory"),
    (["rules", "explain", "NS999"], "netsnap: error: no rule 'NS999'"),
    (["diff", "a"], "netsnap: error: give GOOD BAD as two arguments"),
    (["collector", "--write", ".", "--print"], "netsnap: error: give --write DIR or --print, not both"),
])
def test_one_error_prefix_for_every_command(args: list[str], message: str) -> None:
    res = _netsnap(*args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_no_arguments_prints_the_help() -> None:
    res = _netsnap()
    assert res.returncode == 2 and "Usage: netsnap" in res.stderr + res.stdout


PROBE = """
import sys
sys.argv = ["netsnap", *{args!r}]
from netsnap.cli import main
try:
    main()
except SystemExit:
    pass
heavy = {heavy!r}
print("MODULES:", " ".join(sorted({{m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}})))
"""
# pydantic is not listed: typer 0.29 itself imports it to convert the parameters of the command it runs
HEAVY = ("networkx", "jinja2", "ttp", "netsnap.model", "netsnap.engine", "netsnap.report", "netsnap.bundle",
         "netsnap.trace", "rich.markdown", "rich.progress")


def _imported(args: list[str], heavy: tuple[str, ...] = HEAVY) -> tuple[str, list[str]]:
    res = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out, _, modules = res.stdout.rpartition("MODULES:")
    return out, modules.split()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["analyze", "--help"], ["rules", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    """What makes `--help` and `--version` fast (measured with `python -X importtime`): neither netsnap's
    model, the graph (networkx), the templates (jinja2) nor the parsers (ttp) are imported."""
    out, modules = _imported(args)
    assert out.strip(), "the command printed nothing"
    assert modules == []


def test_version_answers_without_even_typer() -> None:
    out, modules = _imported(["--version"], ("typer", "rich", "click"))
    assert out == "netsnap 0.1.0\n" and modules == []
