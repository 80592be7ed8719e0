"""flanneld environment files: `/etc/default/flanneld`, `/etc/sysconfig/flanneld`, `/run/flannel/options.env`.

One `FlagValue` per variable assignment (`name` = the variable, `via="env-file"`, `src` = the line of
the assignment). TTP finds the first line of each assignment; the value is then read with shell
quoting rules (`netsnap.flannel.shell`) from the raw lines, because a double-quoted value may span
several lines (incident A's `FLANNEL_OPTS`), which a line-oriented template cannot express. Lines a
multi-line value used are consumed. Comments and blank lines are understood; a later assignment of
the same variable wins (as in sh), and both stay in `items`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsnap.bundle.paste import paste_lines
from netsnap.flannel.shell import read_value
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.flannel import FlagValue
from netsnap.parsers.records import could_not_parse, never_raises
from netsnap.parsers.ttp_runner import run_template, unparsed_lines

SOURCE = "flannel_env"
_ASSIGN_LIKE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Assignment:
    """One `NAME=value` read from a shell-style file (0-based `first`/`last` physical line indices)."""

    name: str
    value: str
    first: int
    last: int
    raw: str
    exported: bool = False
    error: str | None = None
    trailing: str = ""


def read_assignments(template: str, text: str) -> tuple[list[Assignment], list[UnparsedLine], int]:
    """Run `template` (group `assign`) and read every assignment's value with shell rules.

    Returns the assignments in file order, the lines nothing understood (comments excluded), and the
    expected count: lines that look like an assignment start (plain regex, independent of TTP) outside
    the lines a multi-line value used.
    """
    records, _, lines = run_template(template, text, "assign")
    consumed: set[int] = set()
    out: list[Assignment] = []
    starts: list[tuple[int, dict[str, str]]] = []
    for rec in records:
        try:
            starts.append((int(rec["ln"]), rec))
        except (KeyError, TypeError, ValueError):
            continue
    starts.sort(key=lambda x: x[0])
    for ln, rec in starts:
        if ln in consumed or ln < 1 or ln > len(lines):
            continue
        line = lines[ln - 1]
        col = line.find("=")
        if col < 0:
            continue
        sv = read_value(lines, ln - 1, col + 1)
        used = [i + 1 for i in sv.lines_used]
        consumed.update(used)
        out.append(Assignment(name=str(rec.get("var_name", "")), value=sv.value, first=ln - 1, last=sv.end,
                              raw="\n".join(lines[ln - 1: sv.end + 1]), exported=bool(rec.get("exported")),
                              error=sv.error, trailing=sv.trailing))
    unparsed = unparsed_lines(lines, consumed | paste_lines(lines), ("#",))  # comments and prompts are understood
    inner = {i + 1 for a in out for i in range(a.first + 1, a.last + 1)}
    expected = sum(1 for n, line in enumerate(lines, 1) if n not in inner and _ASSIGN_LIKE.match(line))
    return out, unparsed, expected


@never_raises(Parsed[FlagValue], SOURCE)
def parse(text: str, file: str) -> Parsed[FlagValue]:
    """Parse an env file into one FlagValue per assignment; never raises."""
    result: Parsed[FlagValue] = Parsed(source=SOURCE, file=file)
    try:
        assignments, unparsed, expected = read_assignments("flannel_env", text)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a parser never raises on bad input
        return could_not_parse(result, text, exc)
    result.unparsed = unparsed
    result.expected = expected
    if expected != len(assignments):
        result.notes.append(f"{file}: {expected} assignment lines but {len(assignments)} assignments parsed")
    for a in assignments:
        if a.error:
            result.notes.append(f"{file}:{a.first + 1}: {a.name}: {a.error}; value read to the end of the file")
        if a.trailing:
            result.notes.append(f"{file}:{a.first + 1}: {a.name}: text after the value ignored: {a.trailing!r}")
        result.items.append(FlagValue(name=a.name, value=a.value, via="env-file",
                                      src=Provenance(file=file, line=a.first + 1)))
    return result
