"""Provenance and the parse-result envelope every parser returns."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Provenance(BaseModel):
    """Where a fact came from: the file inside the bundle and its 1-based line (0 = whole file)."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Record(BaseModel):
    """Base of every parsed item: it carries its provenance and the raw text it came from."""

    model_config = ConfigDict(extra="forbid")

    src: Provenance
    raw: str = ""


class UnparsedLine(BaseModel):
    """A non-blank line no template understood: kept, counted and shown, never dropped."""

    model_config = ConfigDict(frozen=True)

    line: int
    text: str


T = TypeVar("T")


class Parsed(BaseModel, Generic[T]):
    """What one parser returns for one source file.

    `expected` is the parser's own count check (for example the number of `-A` lines) and
    `items` must account for it; `unparsed` lists every line nothing understood.
    """

    source: str
    file: str
    items: list[T] = Field(default_factory=list)
    unparsed: list[UnparsedLine] = Field(default_factory=list)
    expected: int | None = None
    notes: list[str] = Field(default_factory=list)
