"""Every limit on what netsnap reads, in one place: the defaults, their `--limit NAME=VALUE` names, and
the one-line message that names the file, the limit and how to raise it (docs/limits.md lists them).

Inputs are untrusted (bundles, sosreports, security-group exports, baselines, rule directories all
come from customers' machines): each limit bounds the memory or time one input can cost, and is
raised for a trusted large input with `netsnap --limit NAME=VALUE COMMAND ...`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """Bounds on what netsnap reads; see SPECS for what each bounds and its `--limit` name."""

    file_size: int = 64 * MiB
    bundle_size: int = 256 * MiB
    archive_size: int = 2 * GiB
    members: int = 20_000
    ratio: int = 200
    header_size: int = 1 * MiB
    path_depth: int = 64
    path_length: int = 4096
    lines: int = 500_000
    line_length: int = 256 * KiB
    document_size: int = 20 * MiB
    json_depth: int = 64
    memory: int = 1 * GiB


@dataclass(frozen=True)
class LimitSpec:
    """One limit: its `--limit` name, the Limits field, whether it counts bytes, and what it bounds."""

    name: str
    field: str
    is_bytes: bool
    bounds: str


SPECS: dict[str, LimitSpec] = {s.name: s for s in (
    LimitSpec("file-size", "file_size", True, "one file or archive member (read with a bounded read)"),
    LimitSpec("bundle-size", "bundle_size", True, "bytes one input keeps in memory, all its members together"),
    LimitSpec("archive-size", "archive_size", True,
              "bytes decompressed from one archive, members netsnap does not keep included"),
    LimitSpec("members", "members", False, "entries of one input: files, directories, links, archive headers"),
    LimitSpec("ratio", "ratio", False, "decompressed to compressed size of an archive (checked past 16 MiB)"),
    LimitSpec("header-size", "header_size", True, "one tar extended header: GNU long name or link, PAX records"),
    LimitSpec("path-depth", "path_depth", False, "directory levels of a member path"),
    LimitSpec("path-length", "path_length", True, "bytes of one member path"),
    LimitSpec("lines", "lines", False, "lines of one source handed to its parser"),
    LimitSpec("line-length", "line_length", True, "one line of a source (characters)"),
    LimitSpec("document-size", "document_size", True,
              "one JSON or YAML document: manifests, security-group exports, rule files"),
    LimitSpec("json-depth", "json_depth", False, "nesting of one JSON or YAML document"),
    LimitSpec("memory", "memory", True,
              "the whole process: its heap is capped 96 MiB below (RLIMIT_DATA), its peak resident size stays under"),
)}

RATIO_FLOOR = 16 * MiB  # an archive is judged on its compression ratio only past this many bytes
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1024 * GiB}
_COUNT_UNIT = {"": 1, "k": 1000, "m": 1000_000}


class InputRefused(ValueError):
    """An input netsnap will not read (not a regular file, over a limit, malformed beyond use).

    str() is one line naming the file and the problem, and for a limit the flag that raises it.
    """


def human_size(n: int) -> str:
    """`512 MiB`, `1.5 KiB`, `12 bytes`."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def show(name: str, value: int) -> str:
    """A limit's value as a person reads it: `64 MiB`, `20,000`."""
    return human_size(value) if SPECS[name].is_bytes else f"{value:,}"


def value_of(limits: Limits, name: str) -> int:
    value = getattr(limits, SPECS[name].field)
    assert isinstance(value, int)
    return value


def raise_hint(name: str) -> str:
    """How to raise limit `name` for a trusted input."""
    unit = "SIZE" if SPECS[name].is_bytes else "N"
    return f"raise it with netsnap --limit {name}={unit}"


def over(name: str, limits: Limits, what: str = "") -> str:
    """`WHAT, over the NAME limit of VALUE (raise it with netsnap --limit NAME=SIZE)`."""
    head = f"{what}, over" if what else "over"
    return f"{head} the {name} limit of {show(name, value_of(limits, name))} ({raise_hint(name)})"


def parse_value(name: str, text: str) -> int:
    """`64M`, `1.5GiB`, `20000`, `20k` -> an int for limit `name`; ValueError with a one-line message."""
    spec = SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown limit {name!r} (known: {', '.join(SPECS)})")
    m = (_SIZE if spec.is_bytes else _COUNT).match(text)
    if not m:
        example = "64M, 1G or 512K" if spec.is_bytes else "20000 or 50k"
        raise ValueError(f"--limit {name}={text}: not a {'size' if spec.is_bytes else 'number'} (e.g. {example})")
    unit = (_UNIT if spec.is_bytes else _COUNT_UNIT)[m.group(2).lower()]
    value = int(float(m.group(1)) * unit)
    if value <= 0:
        raise ValueError(f"--limit {name}={text}: must be more than 0")
    return value


def with_overrides(limits: Limits, specs: Iterable[str]) -> Limits:
    """`limits` with `NAME=VALUE` overrides applied; ValueError (one line) on a bad one."""
    changes: dict[str, int] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep:
            raise ValueError(f"--limit {spec}: expected NAME=VALUE (names: {', '.join(SPECS)})")
        name = name.strip().lower()
        value = parse_value(name, text)
        changes[SPECS[name].field] = value
    return dataclasses.replace(limits, **changes)
