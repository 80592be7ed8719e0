"""systemd's `ExecStart=` expansion and the RPM wrapper `/usr/bin/flanneld-start` (flannel.md §3.1, §3.4).

systemd.service(5), "Command lines": a word that is exactly `$VAR` is replaced by the variable's
value split at whitespace (zero or more arguments; unset gives none); `${VAR}` is replaced in place
and the word stays exactly ONE argument, whitespace included (unset gives an empty string, and an
empty word is still an argument); `$$` is a literal `$`. `$VAR` inside a longer word is left alone.
The executable may carry the prefixes `-`, `@`, `+`, `!`, `!!` and `:`.

The RPM wrapper runs `exec /usr/bin/flanneld -etcd-endpoints=${FLANNEL_ETCD_ENDPOINTS:-${FLANNEL_ETCD}}
-etcd-prefix=${FLANNEL_ETCD_PREFIX:-${FLANNEL_ETCD_KEY}} "$@"`: its two expansions are unquoted, so the
shell splits them at whitespace.

With `unknown=True` (an `EnvironmentFile=` of the unit is not in the bundle), a variable the captured
environment does not set is not taken as unset: `${VAR}` stays in its word as written and `$VAR` adds
no argument, and both are listed in `Expansion.unknown` (their values are unknown, not empty).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from netsnap.flannel.goflag import Arg
from netsnap.flannel.systemd_words import split_words
from netsnap.model.base import Provenance
from netsnap.model.flannel import FlagValue

_WHOLE_VAR = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$")
_EXEC_PREFIX = "-@+!:"
RPM_WRAPPER = "flanneld-start"
FLANNELD = "/usr/bin/flanneld"


@dataclass
class Expansion:
    """The argv systemd would run (`argv[0]` first) and what went on while building it."""

    argv: list[Arg] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wrapper: bool = False
    unknown: list[str] = field(default_factory=list)  # `${VAR}` / `$VAR` whose value is unknown


def expand_exec_start(command: str, env: dict[str, FlagValue], src: Provenance, unknown: bool = False) -> Expansion:
    """Expand one ExecStart command line against the unit's environment (see the module docstring)."""
    out = Expansion()
    words, error = split_words(command)
    if error:
        out.problems.append(f"ExecStart ({src}): {error}")
    if not words:
        return out
    exe = words[0].lstrip(_EXEC_PREFIX)
    out.argv.append(Arg(exe, src, "ExecStart"))
    for word in words[1:]:
        whole = _WHOLE_VAR.match(word)
        if whole:
            name = whole.group(1)
            var = env.get(name)
            if var is None and unknown:
                out.unknown.append(f"${name}")
                out.notes.append(f"${name} in ExecStart ({src}) is not in the captured environment: its "
                                 "arguments are unknown")
                continue
            if var is None:
                out.notes.append(f"${name} in ExecStart ({src}) is not set: it expands to no argument")
                continue
            for m in re.finditer(r"\S+", var.value):
                # a quoted multi-line value: point at the physical line the word was written on
                line = var.src.line + var.value.count("\n", 0, m.start()) if var.src.line else 0
                out.argv.append(Arg(m.group(0), Provenance(file=var.src.file, line=line), f"${name}"))
            continue
        text, used = _substitute_braced(word, env, unknown)
        if not used:
            out.argv.append(Arg(text, src, "ExecStart"))
            continue
        first = env.get(used[0])
        for name in used:
            if name not in env and unknown:
                out.unknown.append("${" + name + "}")
                out.notes.append(f"${{{name}}} in ExecStart ({src}) is not in the captured environment: its value "
                                 "is unknown")
            elif name not in env:
                out.notes.append(f"${{{name}}} in ExecStart ({src}) is not set: it expands to an empty string")
        out.argv.append(Arg(text, first.src if first else src, "${" + used[0] + "}"))
    if posixpath.basename(exe) == RPM_WRAPPER:
        out.wrapper = True
        out.argv = _rpm_wrapper(out.argv, env, src, out, unknown)
    return out


def _substitute_braced(word: str, env: dict[str, FlagValue], unknown: bool = False) -> tuple[str, list[str]]:
    """Replace `${NAME}` (unset: empty, or kept as written when `unknown`) and `$$` in one word; returns
    (text, names used)."""
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        used.append(m.group(1))
        var = env.get(m.group(1))
        if var is None and unknown:
            return m.group(0)
        return var.value if var else ""

    return _BRACED.sub(sub, word), used


def _pick(env: dict[str, FlagValue], first: str, second: str) -> FlagValue | None:
    """`${first:-${second}}`: first if set and non-empty, else second."""
    a = env.get(first)
    if a is not None and a.value:
        return a
    return env.get(second)


def _rpm_wrapper(argv: list[Arg], env: dict[str, FlagValue], src: Provenance, out: Expansion,
                 unknown: bool = False) -> list[Arg]:
    new = [Arg(FLANNELD, argv[0].src, RPM_WRAPPER)]
    for flag, first, second in (("-etcd-endpoints=", "FLANNEL_ETCD_ENDPOINTS", "FLANNEL_ETCD"),
                                ("-etcd-prefix=", "FLANNEL_ETCD_PREFIX", "FLANNEL_ETCD_KEY")):
        var = _pick(env, first, second)
        if var is None and unknown:  # set, or not, by the environment file the bundle lacks
            written = "${" + first + ":-${" + second + "}}"
            out.unknown.append(written)
            out.notes.append(f"{RPM_WRAPPER} passes {flag}{written}: neither variable is in the captured "
                             "environment, so the value is unknown")
            new.append(Arg(flag + written, src, RPM_WRAPPER))
            continue
        value = var.value if var else ""
        if not value:
            out.problems.append(f"{RPM_WRAPPER} passes an empty {flag} because neither {first} nor {second} is "
                                "set in the unit's environment")
        parts = (flag + value).split()
        via = f"{RPM_WRAPPER} ${{{var.name}}}" if var else RPM_WRAPPER
        new.extend(Arg(p, var.src if var else src, via) for p in parts)
    new.extend(argv[1:])
    return new
