"""modprobe configuration (modprobe.d(5)) -> Parsed[ModuleOption], one item per `name=value` of an
`options MODULE ...` line.

Understood: comments, blank lines, `\\` line continuations, the `alias`, `blacklist`, `install`,
`remove` and `softdep` commands (no items), and `==> FILE <==` headers (the collector's concatenation
of several files, as `tail` prints it), which name the host file of the lines that follow
(`config_file`). Module names are normalised (`-` and `_` are the same to modprobe). A parameter
without `=` is a boolean set to "1", as the kernel reads it; values may be double-quoted. Anything
else is unparsed. `expected` is the number of option words.
"""

from __future__ import annotations

import re

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import ModuleOption
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import number_lines

SOURCE = "modprobe_vxlan"
COMMANDS = frozenset({"alias", "blacklist", "install", "remove", "softdep", "options"})
_HEADER = re.compile(r"^==> (?P<file>.+) <==$")
_WORD = re.compile(r'(?:[^\s"]+|"[^"]*")+')


@never_raises(Parsed[ModuleOption], SOURCE)
def parse(text: str, file: str) -> Parsed[ModuleOption]:
    """Parse modprobe.d configuration text; never raises."""
    result: Parsed[ModuleOption] = Parsed(source=SOURCE, file=file)
    config_file: str | None = None
    expected = 0
    for ln, logical, raw in _logical_lines(number_lines(text)[1]):
        stripped = logical.strip()
        header = _HEADER.match(stripped)
        if header:
            config_file = header.group("file")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        words = _WORD.findall(stripped)
        if words[0] not in COMMANDS or len(words) < 2:
            result.unparsed.append(UnparsedLine(line=ln, text=raw))
            continue
        if words[0] != "options":
            continue
        module = words[1].replace("-", "_")
        for word in words[2:]:
            expected += 1
            name, eq, value = word.partition("=")
            if not name or '"' in name:
                result.notes.append(f"{file}:{ln}: {word!r} is not a module parameter")
                continue
            value = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
            result.items.append(ModuleOption(module=module, name=name, value=value if eq else "1",
                                             config_file=config_file, src=Provenance(file=file, line=ln), raw=raw))
        if len(words) == 2:
            result.unparsed.append(UnparsedLine(line=ln, text=raw))
            result.notes.append(f"{file}:{ln}: `options {words[1]}` sets no parameter")
    result.expected = expected
    return result


def _logical_lines(lines: list[str]) -> list[tuple[int, str, str]]:
    """(first line number, the line with its `\\` continuations joined, the first physical line)."""
    out: list[tuple[int, str, str]] = []
    pending: list[str] = []
    start = 0
    for i, line in enumerate(lines, start=1):
        if not pending:
            start = i
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        out.append((start, " ".join(pending), lines[start - 1]))
        pending = []
    if pending:
        out.append((start, " ".join(pending), lines[start - 1]))
    return out
