"""Go's `flag` package as flanneld uses it (`flag.NewFlagSet("flannel", flag.ExitOnError)`).

Rules (flannel.md §1.1): `-x`, `--x`, `-x=v` and `-x v` are equivalent; a boolean flag takes a value
only with `=` (`--ip-masq false` sets ip-masq and then stops at the word `false`); parsing stops at the
first argument that is not a flag (also `-` and the empty string) and `--` ends the flags; flanneld
never looks at the leftover arguments, so they are silently ignored. An unknown flag, a bad boolean or
integer, or a flag missing its value makes flanneld print its usage and exit; netsnap reports it as a
problem and, for unknown flags only, keeps going (its flag table may be older than the binary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsnap.flannel.flags import KNOWN_FLAGS, go_bool, go_int
from netsnap.model.base import Provenance
from netsnap.model.flannel import FlagValue


@dataclass(frozen=True)
class Arg:
    """One argv element and where its text was written (`via` says how it got into argv)."""

    text: str
    src: Provenance
    via: str


@dataclass
class FlagParse:
    """Result of parsing an argument vector (without argv[0])."""

    flags: dict[str, FlagValue] = field(default_factory=dict)
    repeated: dict[str, list[FlagValue]] = field(default_factory=dict)
    ignored: list[Arg] = field(default_factory=list)
    stopped_at: Arg | None = None
    problems: list[str] = field(default_factory=list)
    fatal: bool = False


def _where(arg: Arg) -> str:
    """`from $FLANNEL_OPTS (file:line)`: the provenance in its own parentheses, so it can be quoted."""
    return f"from {arg.via} ({arg.src})"


def parse_flags(args: list[Arg]) -> FlagParse:
    """Parse `args` the way flanneld's flag set would."""
    out = FlagParse()
    i = 0
    while i < len(args):
        arg = args[i]
        s = arg.text
        if len(s) < 2 or s[0] != "-":
            out.stopped_at = arg
            out.ignored = args[i:]
            break
        minuses = 2 if s[1] == "-" else 1
        if minuses == 2 and len(s) == 2:  # "--" terminator
            out.ignored = args[i + 1:]
            if out.ignored:
                out.stopped_at = arg
            break
        name = s[minuses:]
        if not name or name[0] in "-=":
            out.problems.append(f"bad flag syntax {s!r} {_where(arg)}: flanneld prints its usage and exits")
            out.fatal = True
            out.ignored = args[i:]
            break
        has_value = "=" in name
        value = ""
        if has_value:
            name, value = name.split("=", 1)
        kind = KNOWN_FLAGS.get(name)
        i += 1
        if kind is None:
            out.problems.append(
                f"unknown flag {s!r} {_where(arg)}: flanneld prints its usage and exits unless its version "
                "defines this flag")
            _set(out, name, value if has_value else "true", arg, repeat=False)
            continue
        if kind == "bool":
            if has_value:
                parsed = go_bool(value)
                if parsed is None:
                    out.problems.append(f"invalid boolean value {value!r} for -{name} {_where(arg)}: "
                                        "flanneld prints its usage and exits")
                    out.fatal = True
                    out.ignored = args[i:]
                    break
                value = "true" if parsed else "false"
            else:
                value = "true"
        elif not has_value:
            if i >= len(args):
                out.problems.append(f"flag needs an argument: -{name} {_where(arg)}: flanneld prints its usage "
                                    "and exits")
                out.fatal = True
                break
            value = args[i].text
            arg = Arg(f"{s} {value}", arg.src, arg.via)
            i += 1
        if kind == "int" and go_int(value) is None:
            out.problems.append(f"invalid value {value!r} for -{name} {_where(arg)}: not an integer; flanneld "
                                "prints its usage and exits")
            out.fatal = True
            out.ignored = args[i:]
            break
        _set(out, name, value, arg, repeat=kind == "slice")
    return out


def _set(out: FlagParse, name: str, value: str, arg: Arg, *, repeat: bool) -> None:
    fv = FlagValue(name=name, value=value, via=arg.via, src=arg.src)
    if repeat:
        out.repeated.setdefault(name, []).append(fv)
        out.flags.setdefault(name, fv)
    else:
        out.flags[name] = fv
