"""`dmesg` -> Parsed[KernelEvent]: only the kernel messages netsnap acts on, via templates/dmesg.ttp.

Kinds emitted: "conntrack-full" (`nf_conntrack: table full, dropping packet`, also the doubled
`nf_conntrack: nf_conntrack: table full` and `ip_conntrack: table full`) and "bad-checksum"
(`UDP: bad checksum. From A:P to B:Q ulen N`, fields src/sport/dst/dport/ulen). Timestamps are kept
as printed: monotonic `12345.678901` or `dmesg -T` text.

Decision on everything else: a line with a `[stamp]` prefix, or without one but shaped like a kernel
message (`subsystem: text`, or a word then text), is understood and NOT emitted (neither item nor
unparsed); only text that does not look like a kernel log line (binary, unterminated `[`, stray
punctuation) is unparsed. `expected` is the number of lines matching an emitted kind's keyword.
A pasted prompt line (`$ dmesg -T`) and markdown fences are understood.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from netsnap.bundle.paste import paste_lines
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import KernelEvent, KernelEventKind
from netsnap.parsers.ttp_runner import run_template

SOURCE = "dmesg"
_CONNTRACK_FULL = re.compile(r"\b(?:nf|ip)_conntrack: (?:(?:nf|ip)_conntrack: )?table full, dropping packet")
_BAD_CSUM = re.compile(
    r"UDP(?:v6)?: bad checksum\. From (?P<src>[0-9A-Fa-f.:]+?):(?P<sport>\d+)"
    r" to (?P<dst>[0-9A-Fa-f.:]+?):(?P<dport>\d+) ulen (?P<ulen>\d+)")
_KEYWORDS = ("table full", "bad checksum")
_KERNEL_SHAPE = re.compile(r"^[\w.\-/]+(?:[ \t][\w.\-/:]+)?:?[ \t]\S|^[\w.\-]+:$|^[\w.\-/]+[ \t]\S")


def parse(text: str, file: str) -> Parsed[KernelEvent]:
    """Parse dmesg output; never raises."""
    try:
        return _parse(text, file)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file
        return Parsed[KernelEvent](source=SOURCE, file=file,
                                   notes=[f"dmesg parser failed: {type(exc).__name__}: {exc}"],
                                   unparsed=[UnparsedLine(line=i, text=t) for i, t in enumerate(text.splitlines(), 1)
                                             if t.strip()])


def classify(message: str) -> tuple[KernelEventKind, dict[str, str]] | None:
    """(kind, fields) for a message netsnap acts on, else None."""
    if _CONNTRACK_FULL.search(message):
        return "conntrack-full", {}
    m = _BAD_CSUM.search(message)
    if m:
        return "bad-checksum", m.groupdict()
    return None


def _parse(text: str, file: str) -> Parsed[KernelEvent]:
    records, unparsed, lines = run_template("dmesg", text, "lines")
    paste = paste_lines(lines)
    records = [r for r in records if int(r["ln"]) not in paste]
    unparsed = [u for u in unparsed if u.line not in paste]
    items: list[KernelEvent] = []
    notes: list[str] = []
    expected = 0
    for rec in records:
        ln = int(rec["ln"])
        raw = lines[ln - 1] if 0 < ln <= len(lines) else ""
        stamp: str | None
        if "bare" in rec:
            message, stamp = raw.strip(), None
            if not _KERNEL_SHAPE.search(message):
                unparsed.append(UnparsedLine(line=ln, text=raw))
                continue
        else:
            stamp = str(rec.get("stamp", "")).strip() or None
            message = raw.split("]", 1)[1].strip() if "]" in raw else ""
        if any(k in message for k in _KEYWORDS):
            expected += 1
        found = classify(message)
        if found is None:
            continue
        kind, fields = found
        try:
            items.append(KernelEvent(kind=kind, timestamp=stamp, message=message, fields=fields,
                                     src=Provenance(file=file, line=ln), raw=raw))
        except ValidationError as exc:
            unparsed.append(UnparsedLine(line=ln, text=raw))
            notes.append(f"line {ln}: {exc.errors()[0]['msg']}")
    if len(items) != expected:
        notes.append(f"{expected} lines mention a known event but {len(items)} events were read")
    unparsed.sort(key=lambda u: u.line)
    return Parsed[KernelEvent](source=SOURCE, file=file, items=items, unparsed=unparsed, expected=expected,
                               notes=notes)
