"""Turning member bytes into text: UTF-8 with undecodable bytes replaced and counted."""

from __future__ import annotations

import re
from collections.abc import Iterable

from netsnap.bundle.members import Members
from netsnap.bundle.model import Bundle

_SURROGATE = re.compile("[\udc80-\udcff]")


def decode_text(data: bytes) -> tuple[str, int]:
    """Decode `data` as UTF-8; return the text and how many bytes had to be replaced by U+FFFD."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        escaped = data.decode("utf-8", errors="surrogateescape")
        return _SURROGATE.subn("\ufffd", escaped)


def looks_binary(data: bytes) -> bool:
    """True when the first 8 KiB hold a NUL byte: not text a person pasted or a command printed."""
    return b"\x00" in data[:8192]


def member_text(data: bytes) -> tuple[str, int, list[str]]:
    """Decode one member; return (text, replaced byte count, notes about the decoding)."""
    text, replaced = decode_text(data)
    notes = [f"{replaced} undecodable bytes replaced"] if replaced else []
    return text, replaced, notes


def add_text_members(members: Members, bundle: Bundle, only: Iterable[str] | None = None) -> None:
    """Copy text members (all, or those in `only`) into `bundle.members`; report replaced bytes."""
    names = sorted(members.data) if only is None else sorted(set(only) & members.data.keys())
    for rel in names:
        data = members.data[rel]
        if looks_binary(data):
            continue
        text, replaced = decode_text(data)
        bundle.members[rel] = text
        if replaced:
            bundle.problems.append(f"{rel}: {replaced} undecodable bytes replaced")
