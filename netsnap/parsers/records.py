"""What the line-oriented parsers share: the never-raise guard, the per-record loop and its count check.

A parser turns each TTP record into one item; a record whose values do not make an item raises
`LineError` (message `line N: ...`), which becomes a note and leaves its line unparsed. Any other
exception means the parser itself failed: the guard then returns every non-blank line unparsed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from netsnap.bundle.paste import paste_lines
from netsnap.model.base import Parsed, UnparsedLine
from netsnap.model.unchecked import compact
from netsnap.parsers.ttp_runner import number_lines, unparsed_lines

T = TypeVar("T")
ParseFn = Callable[[str, str], Parsed[T]]


class LineError(ValueError):
    """A line whose values do not make the item its parser builds (a note, and the line left unparsed)."""


def left_unparsed(result: Parsed[T], text: str, exc: Exception) -> Parsed[T]:
    """`result` (still empty) for a parser that raised `exc`: every non-blank line unparsed, with a note."""
    _, lines = number_lines(text)
    result.unparsed = unparsed_lines(lines, set())
    result.notes.append(f"parser failed ({type(exc).__name__}); every line is left unparsed")
    return result


def never_raises(kind: type[Parsed[T]], source: str) -> Callable[[ParseFn[T]], ParseFn[T]]:
    """Decorate `parse(text, file)` so that any exception gives `left_unparsed` of a fresh `kind` result."""

    def decorate(parse: ParseFn[T]) -> ParseFn[T]:
        @functools.wraps(parse)
        def guarded(text: str, file: str) -> Parsed[T]:
            try:
                return parse(text, file)
            except MemoryError:  # the process memory limit: give up this file, never retry in its handler
                raise
            except Exception as exc:  # hostile input must never escape as a traceback
                return left_unparsed(kind(source=source, file=file), text, exc)

        return guarded

    return decorate


def could_not_parse(result: Parsed[T], text: str, exc: Exception) -> Parsed[T]:
    """`result` for a template run that raised `exc`: a note naming the file and the error, and every
    non-blank line of `text` (split with `str.splitlines`) unparsed."""
    result.notes.append(f"{result.file}: could not be parsed ({type(exc).__name__}: {exc})")
    result.unparsed = unparsed_lines(text.splitlines(), set())
    return result


def read_records(result: Parsed[T], records: Iterable[dict[str, Any]], lines: list[str],
                 build: Callable[[dict[str, Any], str], T]) -> set[int]:
    """Append `build(record, its line)` to `result.items` for each record, in order (compacted: equal
    values shared between items, see `compact`); a `LineError` becomes a note instead. Returns the
    numbers of the lines that made an item."""
    consumed: set[int] = set()
    shared: dict[Any, Any] = {}
    for rec in records:
        ln = int(rec["ln"])
        try:
            item = build(rec, lines[ln - 1])
            result.items.append(compact(item, shared) if isinstance(item, BaseModel) else item)
        except LineError as exc:
            result.notes.append(str(exc))
            continue
        consumed.add(ln)
    return consumed


def account(result: Parsed[T], lines: list[str], consumed: set[int], expected: int, counted: str, made: str,
            ignore_prefixes: tuple[str, ...] = ()) -> Parsed[T]:
    """Set `expected` and `unparsed` (lines not in `consumed`, nor a paste's prompt lines and fences);
    when the items do not match the count, note it as "<expected> <counted>, <items> <made> parsed"
    (e.g. "3 rule lines, 2 rules parsed")."""
    result.expected = expected
    result.unparsed = unparsed_lines(lines, consumed | paste_lines(lines), ignore_prefixes)
    if len(result.items) != expected:
        result.notes.append(f"{expected} {counted}, {len(result.items)} {made} parsed")
    return result


def counted_lines(lines: list[str], keep: Callable[[str], bool] | None = None, skip: set[int] | None = None) -> int:
    """The number of non-blank lines (that `keep` accepts, not in `skip`) a count check should count: a
    paste's prompt lines and fences are not output."""
    paste = paste_lines(lines)
    return sum(1 for i, line in enumerate(lines, start=1)
               if line.strip() and i not in paste and (skip is None or i not in skip) and (keep is None or keep(line)))


def validated(ln: int, make: Callable[[], T]) -> T:
    """`make()`, with a pydantic ValidationError turned into `LineError("line N: K validation error(s)")`."""
    try:
        return make()
    except ValidationError as exc:
        raise LineError(f"line {ln}: {exc.error_count()} validation error(s)") from exc


def one_value(result: Parsed[T], text: str) -> tuple[int, str] | None:
    """The value line of a one-value file (a sysfs attribute, a module parameter): (line number, line) of
    its first non-blank line, with `expected` set to 1 and every later non-blank line unparsed; None (and
    nothing expected) when the file is blank."""
    lines = [(i, line) for i, line in enumerate(number_lines(text)[1], start=1) if line.strip()]
    if not lines:
        return None
    result.expected = 1
    result.unparsed.extend(UnparsedLine(line=i, text=line) for i, line in lines[1:])
    return lines[0]
