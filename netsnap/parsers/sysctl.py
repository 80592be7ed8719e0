"""`sysctl -a` (or selected keys) -> Parsed[Sysctl], via templates/sysctl.ttp.

`key = value` and `key=value` lines; values keep inner spaces and tabs (`32768\t60999`); an empty
value (`kernel.domainname =`) is kept as "". `sysctl: ...` / `error: ...` lines are understood noise;
"permission denied on key K" becomes the note "key not readable: K" (a key that could not be read
is not the same as an absent key). `expected` is the number of keys.

A value of several lines (`/proc/sys/kernel/core_modes`, `dev.cdrom.info`) is printed by sysctl as
one `key = line` per line: consecutive lines of one key make one Sysctl whose value holds the lines
joined by newlines (provenance: the first line), with a note. A pasted prompt line is understood.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from netsnap.bundle.paste import paste_lines
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import Sysctl
from netsnap.parsers.ttp_runner import run_template

SOURCE = "sysctl"
_DENIED = re.compile(r"permission denied on key '?\"?([^'\"\s,]+)")


def parse(text: str, file: str) -> Parsed[Sysctl]:
    """Parse sysctl output; never raises."""
    try:
        return _parse(text, file)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file
        return Parsed[Sysctl](source=SOURCE, file=file, notes=[f"sysctl parser failed: {type(exc).__name__}: {exc}"],
                              unparsed=[UnparsedLine(line=i, text=t) for i, t in enumerate(text.splitlines(), 1)
                                        if t.strip()])


def _parse(text: str, file: str) -> Parsed[Sysctl]:
    records, unparsed, lines = run_template("sysctl", text, "entries")
    items: list[Sysctl] = []
    notes: list[str] = []
    expected = 0
    for rec in records:
        ln = int(rec["ln"])
        raw = lines[ln - 1] if 0 < ln <= len(lines) else ""
        if "error" in rec:
            m = _DENIED.search(str(rec["error"]))
            notes.append(f"key not readable: {m.group(1)}" if m else f"line {ln}: {rec['error']}")
            continue
        expected += 1
        if "pair" in rec:
            key, _, value = str(rec["pair"]).partition("=")
        elif "empty_key" in rec:
            key, value = str(rec["empty_key"]), ""
        else:
            key, value = str(rec.get("key", "")), _value_of(raw)
        try:
            items.append(Sysctl(key=key.strip(), value=value.strip(), src=Provenance(file=file, line=ln), raw=raw))
        except ValidationError as exc:
            unparsed.append(UnparsedLine(line=ln, text=raw))
            notes.append(f"line {ln}: {exc.errors()[0]['msg']}")
    merged: list[Sysctl] = []
    for item in items:
        prev = merged[-1] if merged else None
        if prev is not None and prev.key == item.key and item.src.line == _last_line(prev) + 1:
            merged[-1] = prev.model_copy(update={"value": f"{prev.value}\n{item.value}",
                                                 "raw": f"{prev.raw}\n{item.raw}"})
            expected -= 1
            continue
        merged.append(item)
    for item in merged:
        if "\n" in item.value:
            notes.append(f"line {item.src.line}: {item.key} has a value of {item.value.count(chr(10)) + 1} lines")
    paste = paste_lines(lines)
    unparsed = sorted((u for u in unparsed if u.line not in paste), key=lambda u: u.line)
    return Parsed[Sysctl](source=SOURCE, file=file, items=merged, unparsed=unparsed, expected=expected, notes=notes)


def _last_line(item: Sysctl) -> int:
    return item.src.line + item.raw.count("\n")


def _value_of(raw: str) -> str:
    """The value after the first ` = ` of the original line (TTP may fold tabs; the line does not)."""
    return raw.partition("=")[2].strip()
