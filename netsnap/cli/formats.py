"""Output formats of the report commands (analyze, diff): text, JSON or HTML, from --format or the -o suffix."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


#: -o suffixes and the format they mean; any other suffix needs --format
SUFFIX_FORMAT = {".html": Format.HTML, ".htm": Format.HTML, ".json": Format.JSON, ".txt": Format.TEXT,
                 ".text": Format.TEXT, ".log": Format.TEXT, "": Format.TEXT}


class UsageProblem(Exception):
    """A usage error found after parsing (a bad -o suffix, a missing -o)."""


def output_format(fmt: Format | None, output: Path | None) -> Format:
    """--format, else the -o suffix (.html, .json, .txt...), else text; a suffix netsnap does not write
    (`report.pdf`) is a usage error rather than a text file with a misleading name."""
    if fmt is None and output is not None:
        suffix = output.suffix.lower()
        if suffix not in SUFFIX_FORMAT:
            hint = " (open the .html report in a browser and print it to PDF)" if suffix == ".pdf" else ""
            raise UsageProblem(f"-o {output}: netsnap writes .html, .json or .txt, not {suffix}{hint}; "
                               f"or give --format")
        fmt = SUFFIX_FORMAT[suffix]
    fmt = fmt or Format.TEXT
    if fmt is Format.HTML and output is None:
        raise UsageProblem("--format html needs -o FILE")
    return fmt
