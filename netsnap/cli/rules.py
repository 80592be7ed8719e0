"""`netsnap rules list|explain ID|docs`: the rule catalogue and its documentation."""

from __future__ import annotations

from typing import Annotated

import typer

from netsnap.cli.common import current_limits, one_line
from netsnap.engine.discovery import RuleLoadError, discover
from netsnap.engine.docs import explain, rules_markdown
from netsnap.engine.rule import Rule

rules_app = typer.Typer(name="rules", help="List, explain and document the diagnostic rules.", no_args_is_help=True)

RulesDir = Annotated[
    list[str] | None, typer.Option("--rules-dir", help="Extra directory of rule files (repeatable).")
]


def _load(rules_dirs: list[str] | None) -> list[Rule]:
    try:
        return [lr.rule for lr in discover(rules_dirs or (), limits=current_limits())]
    except RuleLoadError as exc:
        typer.echo(f"netsnap: {one_line(str(exc))}", err=True)
        raise typer.Exit(code=2) from exc


@rules_app.command("list")
def list_rules(rules_dir: RulesDir = None) -> None:
    """One line per rule: ID, severity, cause and title."""
    for r in _load(rules_dir):
        m = r.meta
        typer.echo(f"{m.id}  {m.severity.value:<7}  {m.category.value:<14}  {m.cause:<24}  {m.title}")


@rules_app.command("explain")
def explain_rule(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="Rule ID (NS201) or name (iptables-reject).")],
    rules_dir: RulesDir = None,
) -> None:
    """The rule's documentation: what it does, why it matters, an example, the fix, references."""
    want = rule_id.strip().lower()
    for r in _load(rules_dir):
        if want in (r.meta.id.lower(), r.meta.name):
            typer.echo(explain(r.meta))
            return
    typer.echo(f"netsnap: no rule {rule_id!r} (see `netsnap rules list`)", err=True)
    raise typer.Exit(code=2)


@rules_app.command("docs")
def docs(rules_dir: RulesDir = None) -> None:
    """Print docs/rules.md (generated from the rules; `make docs` writes it)."""
    typer.echo(rules_markdown(_load(rules_dir)), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
