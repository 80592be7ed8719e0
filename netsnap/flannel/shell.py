"""Shell-style assignment values (`KEY="a b"`, `KEY='x'`, `KEY=v\\`), as env files and os-release hold them.

The reader follows POSIX sh quoting for the value of one assignment, which is also what systemd's
`EnvironmentFile=` accepts: double quotes (backslash escapes only `$`, backtick, `"`, `\\` and newline),
single quotes (literal), unquoted backslash escapes, and backslash-newline continuations. A quoted
value may span several physical lines; the newline stays part of the value. `$VAR` references are
kept literally (systemd does not expand them in env files).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ShellValue:
    """One assignment value read from `lines[start]` onwards.

    `end` is the index of the last physical line the value used; `error` says what went wrong
    (unterminated quote); `trailing` is text after the value on its last line (a comment is dropped).
    """

    value: str
    end: int
    error: str | None = None
    trailing: str = ""
    lines_used: list[int] = field(default_factory=list)


_DQ_ESCAPES = {"$", "`", '"', "\\"}


def read_value(lines: list[str], start: int, col: int) -> ShellValue:
    """Read the value that begins at `lines[start][col:]` (0-based indices), following quotes across lines."""
    out: list[str] = []
    i = start
    line = lines[i]
    pos = col
    quote: str | None = None
    while True:
        if pos >= len(line):
            if quote is not None:
                if i + 1 >= len(lines):
                    return ShellValue("".join(out), i, error=f"unterminated {quote} quote", lines_used=_span(start, i))
                out.append("\n")
                i += 1
                line, pos = lines[i], 0
                continue
            break
        ch = line[pos]
        if quote == "'":
            if ch == "'":
                quote = None
            else:
                out.append(ch)
            pos += 1
        elif quote == '"':
            if ch == '"':
                quote = None
                pos += 1
            elif ch == "\\":
                if pos + 1 >= len(line):  # backslash-newline inside double quotes: continuation
                    if i + 1 >= len(lines):
                        return ShellValue("".join(out), i, error='unterminated " quote', lines_used=_span(start, i))
                    i += 1
                    line, pos = lines[i], 0
                    continue
                nxt = line[pos + 1]
                out.append(nxt if nxt in _DQ_ESCAPES else "\\" + nxt)
                pos += 2
            else:
                out.append(ch)
                pos += 1
        else:
            if ch in ("'", '"'):
                quote = ch
                pos += 1
            elif ch == "\\":
                if pos + 1 >= len(line):
                    if i + 1 >= len(lines):
                        pos += 1
                        continue
                    i += 1
                    line, pos = lines[i], 0
                    continue
                out.append(line[pos + 1])
                pos += 2
            elif ch in (" ", "\t"):
                break
            else:
                out.append(ch)
                pos += 1
    rest = line[pos:].strip()
    trailing = "" if rest.startswith("#") else rest
    return ShellValue("".join(out), i, trailing=trailing, lines_used=_span(start, i))


def _span(start: int, end: int) -> list[int]:
    return list(range(start, end + 1))


def split_fields(value: str) -> list[str]:
    """Field splitting of an unquoted expansion (`$VAR` in sh or systemd): split on any whitespace."""
    return value.split()
