"""Finding rules: every module of `netsnap.builtin_rules`, extra directories (loaded by file path) and
the `netsnap.rules` entry-point group.

Convention: one rule per module; the module ends with `rule = MyRule()` (an instance of a `Rule`
subclass). A module without a module-level `rule` is ignored (helpers may live beside rules as
`_private.py`). Duplicate IDs are an error naming both origins.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from netsnap.bundle.limits import InputRefused, Limits
from netsnap.bundle.members import clean_name
from netsnap.bundle.regular import read_bounded
from netsnap.engine.rule import Rule

ENTRY_POINT_GROUP = "netsnap.rules"
BUILTIN_PACKAGE = "netsnap.builtin_rules"


class RuleLoadError(Exception):
    """A rule module that cannot be loaded; str() is one line naming the file and the problem."""


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    origin: str  # "builtin:<module>", "dir:<path>", "entry-point:<name>"


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one line (pydantic validation errors span several)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rule_of(module: object, origin: str) -> Rule | None:
    obj = getattr(module, "rule", None)
    if obj is None:
        return None
    if not isinstance(obj, Rule):
        raise RuleLoadError(f"{origin}: `rule` is not a netsnap.engine.rule.Rule instance")
    return obj


def builtin_rules() -> list[LoadedRule]:
    pkg = importlib.import_module(BUILTIN_PACKAGE)

    out = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        name = f"{pkg.__name__}.{info.name}"
        module = importlib.import_module(name)
        r = _rule_of(module, name)
        if r is not None:
            out.append(LoadedRule(r, f"builtin:{name}"))
    return out


def _rule_source(path: Path, limits: Limits) -> bytes:
    """The bytes of one rule file, read like every other input (netsnap.bundle.regular): a regular
    file only (a FIFO or /dev/zero named `x.py` is refused, not read), at most the document-size limit."""
    try:
        return read_bounded(str(path), limits, "document-size", what=clean_name(str(path)))
    except InputRefused as exc:
        raise RuleLoadError(str(exc)) from None
    except OSError as exc:
        raise RuleLoadError(f"{clean_name(str(path))}: cannot read ({exc.strerror or exc})") from None


def rules_from_dir(directory: str | Path, limits: Limits | None = None) -> list[LoadedRule]:
    """Load every `*.py` (not starting with `_`) in `directory` by file path; each file is read once
    under `limits` and the bytes read are what runs."""
    limits = limits or Limits()
    d = Path(directory)
    if not d.is_dir():
        raise RuleLoadError(f"{clean_name(str(d))}: rules directory not found")
    out = []
    for path in sorted(d.glob("*.py")):
        if path.name.startswith("_"):
            continue
        source = _rule_source(path, limits)
        mod_name = f"netsnap_extra_rules.{path.parent.name}.{path.stem}"
        spec = importlib.util.spec_from_loader(mod_name, loader=None, origin=str(path))
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        module.__file__ = str(path)
        sys.modules[mod_name] = module
        try:
            exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - the user's own rule file
        except Exception as exc:  # a user's rule file: report it in one line, never a traceback
            del sys.modules[mod_name]
            raise RuleLoadError(clean_name(f"{path}: {type(exc).__name__}: {_one_line(exc)}")) from exc
        r = _rule_of(module, str(path))
        if r is not None:
            out.append(LoadedRule(r, f"dir:{path}"))
    return out


def rules_from_entry_points() -> list[LoadedRule]:
    out = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:  # a third-party plugin: one line, never a traceback
            raise RuleLoadError(f"entry point {ep.name} ({ep.value}): {type(exc).__name__}: {_one_line(exc)}") from exc
        if isinstance(obj, type) and issubclass(obj, Rule):
            obj = obj()
        r = obj if isinstance(obj, Rule) else _rule_of(obj, f"entry point {ep.name}")
        if r is None:
            raise RuleLoadError(f"entry point {ep.name} ({ep.value}): not a rule, rule class or rule module")
        out.append(LoadedRule(r, f"entry-point:{ep.name}"))
    return out


def discover(rules_dirs: Iterable[str | Path] = (), *, include_entry_points: bool = True,
             limits: Limits | None = None) -> list[LoadedRule]:
    """All rules, sorted by ID; raises RuleLoadError on a duplicate ID or a broken module. Rule files
    are read under `limits` (defaults: netsnap.bundle.limits)."""
    found = builtin_rules()
    for d in rules_dirs:
        found.extend(rules_from_dir(d, limits))
    if include_entry_points:
        found.extend(rules_from_entry_points())
    by_id: dict[str, LoadedRule] = {}
    for lr in found:
        prev = by_id.get(lr.rule.meta.id)
        if prev is not None:
            raise RuleLoadError(f"duplicate rule id {lr.rule.meta.id}: {prev.origin} and {lr.origin}")
        by_id[lr.rule.meta.id] = lr
    return [by_id[k] for k in sorted(by_id)]


def all_rules(rules_dirs: Iterable[str | Path] = ()) -> list[Rule]:
    return [lr.rule for lr in discover(rules_dirs)]
