"""The one rule selector: `--only`/`--skip` tokens name a rule by ID (NS201), name (iptables-reject),
cause or category (firewall), case-insensitively. The engine and the CLI both use it; an unknown token
is an error that lists the valid choices (never silently nothing)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from netsnap.engine.rule import Rule


class SelectorError(ValueError):
    """A token that names no rule; str() is one line with the valid choices."""


def rule_keys(rule: Rule) -> set[str]:
    """Every token that selects `rule`."""
    m = rule.meta
    return {m.id.lower(), m.name.lower(), m.cause.lower(), m.category.value.lower()}


def tokens(values: Iterable[str]) -> list[str]:
    """Split comma-separated option values into tokens."""
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def check_tokens(rules: Sequence[Rule], values: Iterable[str], option: str) -> None:
    """Raise SelectorError for a token that selects no rule."""
    known: set[str] = set()
    for r in rules:
        known |= rule_keys(r)
    bad = [t for t in tokens(values) if t.lower() not in known]
    if bad:
        ids = ", ".join(sorted({r.meta.id for r in rules}))
        cats = ", ".join(sorted({r.meta.category.value for r in rules}))
        raise SelectorError(
            f"{option} {', '.join(bad)}: no such rule; use a rule ID ({ids}), a rule name or cause "
            f"(`netsnap rules list`), or a category ({cats})")


def select_rules(rules: Sequence[Rule], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Rule]:
    """The rules `only` keeps (all when empty) minus those `skip` names; unknown tokens raise SelectorError."""
    only_t, skip_t = tokens(only), tokens(skip)
    check_tokens(rules, only_t, "--only")
    check_tokens(rules, skip_t, "--skip")
    only_s = {t.lower() for t in only_t}
    skip_s = {t.lower() for t in skip_t}
    out = [r for r in rules if not only_s or rule_keys(r) & only_s]
    return [r for r in out if not rule_keys(r) & skip_s]
