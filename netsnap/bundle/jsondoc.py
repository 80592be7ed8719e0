"""Decoding an untrusted JSON document with limits: its size and its nesting depth, checked before
the decoder runs (Python's decoder recurses once per level and fails deep documents with a
RecursionError), and its text encoding taken from a byte-order mark (UTF-8, UTF-16 or UTF-32, as
Windows tools write them) else UTF-8 with undecodable bytes replaced. Escaped control characters
(`\u001b`, `\r`) decode to U+FFFD (raw ones are invalid JSON already), so no string of a document
can carry a terminal escape.
"""

from __future__ import annotations

import codecs
import json
import re
from itertools import accumulate
from typing import Any

from netsnap.bundle.limits import InputRefused, Limits, human_size, over

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# JSON escapes of control characters other than newline and tab (terminal escapes, CR, backspace):
# decoded, they would reach a terminal or a report from a group name or a manifest field
_CONTROL_ESCAPE = re.compile(r"\\(?:u00(?:0[0-8bcdef]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|[bfr])")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_document(data: bytes) -> str:
    """Bytes -> text by byte-order mark (UTF-8/16/32), else UTF-8; undecodable bytes replaced."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")


def nesting_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON `text` nest (strings skipped), in one linear pass."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(_STEP[c] for c in brackets)))


def check_document(text: str, name: str, limits: Limits) -> None:
    """InputRefused when `text` is over the document-size or json-depth limit."""
    size = len(text)
    if size > limits.document_size:
        raise InputRefused(f"{name}: " + over("document-size", limits, human_size(size)))
    depth = nesting_depth(text)
    if depth > limits.json_depth:
        try:  # unbalanced brackets of a document that is no JSON at all: say that instead
            json.loads(text)
        except RecursionError:
            pass
        except ValueError as exc:
            raise InputRefused(f"{name}: not valid JSON ({exc})") from None
        raise InputRefused(f"{name}: " + over("json-depth", limits, f"nested {depth:,} levels deep"))


def loads(data: bytes | str, name: str, limits: Limits) -> Any:
    """The JSON value of `data`; InputRefused (one line naming `name`) when it is over a limit, and
    ValueError (json.JSONDecodeError) when it is not JSON."""
    if isinstance(data, bytes):
        if len(data) > limits.document_size:
            raise InputRefused(f"{name}: " + over("document-size", limits, human_size(len(data))))
        data = decode_document(data)
    check_document(data, name, limits)
    data = _CONTROL_ESCAPE.sub(r"\\ufffd", data)
    try:
        return json.loads(data)
    except RecursionError:  # deeper than the interpreter allows despite the check: never a traceback
        raise InputRefused(f"{name}: " + over("json-depth", limits, "nested too deeply")) from None
