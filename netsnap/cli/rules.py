"""`netsnap rules list|explain ID|docs`: the rule catalogue and its documentation.

On a terminal `list` is a table that fits its width and `explain` is rendered Markdown; piped, both
print plain text (one line per rule; the Markdown source) for scripts and files.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from netsnap.cli.command import NetsnapCommand, NetsnapGroup, error_line

if TYPE_CHECKING:
    from netsnap.engine.rule import Rule

rules_app = typer.Typer(name="rules", cls=NetsnapGroup, no_args_is_help=True, rich_markup_mode=None,
                        help="List, explain and document the diagnostic rules.\n\n\b\nExamples:\n"
                             "  netsnap rules list\n  netsnap rules explain NS301\n"
                             "  netsnap rules explain iptables-reject")

RulesDir = Annotated[
    list[str] | None, typer.Option("--rules-dir", metavar="DIR", help="Extra directory of rule files (repeat).")
]


def _load(rules_dirs: list[str] | None) -> list[Rule]:
    from netsnap.cli.common import current_limits
    from netsnap.engine.discovery import RuleLoadError, discover

    try:
        return [lr.rule for lr in discover(rules_dirs or (), limits=current_limits())]
    except RuleLoadError as exc:
        typer.echo(error_line(str(exc)), err=True)
        raise typer.Exit(code=2) from exc


def _terminal() -> bool:
    return sys.stdout.isatty()


@rules_app.command("list", cls=NetsnapCommand)
def list_rules(rules_dir: RulesDir = None) -> None:
    """One line per rule: ID, severity, category, cause and title."""
    rules = _load(rules_dir)
    if not _terminal():
        for r in rules:
            m = r.meta
            typer.echo(f"{m.id}  {m.severity.value:<7}  {m.category.value:<14}  {m.cause:<24}  {m.title}")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("cause", no_wrap=True)
    table.add_column("title", ratio=1)
    for r in rules:
        m = r.meta
        table.add_row(m.id, m.severity.value, m.cause, Text(m.title))
    Console().print(table)


@rules_app.command("explain", cls=NetsnapCommand)
def explain_rule(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="Rule ID (NS201) or name (iptables-reject).")],
    rules_dir: RulesDir = None,
) -> None:
    """The rule's documentation: what it does, why it matters, an example, the fix, references."""
    from netsnap.engine.docs import explain

    want = rule_id.strip().lower()
    for r in _load(rules_dir):
        if want in (r.meta.id.lower(), r.meta.name):
            text = explain(r.meta)
            if not _terminal():
                typer.echo(text)
                return
            from rich.console import Console
            from rich.markdown import Markdown

            Console().print(Markdown(text, hyperlinks=False))
            return
    typer.echo(error_line(f"no rule {rule_id!r} (see `netsnap rules list`)"), err=True)
    raise typer.Exit(code=2)


@rules_app.command("docs", cls=NetsnapCommand)
def docs(rules_dir: RulesDir = None) -> None:
    """Print docs/rules.md (generated from the rules; `make docs` writes it)."""
    from netsnap.engine.docs import rules_markdown

    typer.echo(rules_markdown(_load(rules_dir)), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
