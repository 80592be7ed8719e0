"""Turning member bytes into text: UTF-8 with undecodable bytes replaced and counted."""

from __future__ import annotations

import re

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
