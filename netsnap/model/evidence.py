"""Evidence: one quoted line of a bundle (host, file, line, text), and the helpers that quote records."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from netsnap.model.base import Provenance, Record


class Evidence(BaseModel):
    """One quoted line: the host, the file inside its bundle, the 1-based line, the text."""

    model_config = ConfigDict(frozen=True)

    host: str
    file: str
    line: int = 0
    text: str = ""


def quote(host: str, item: Record, text: str | None = None) -> Evidence:
    """Quote one parsed record of host `host`: its bundle file, line and raw text."""
    return Evidence(host=host, file=item.src.file, line=item.src.line, text=text if text is not None else item.raw)


def quote_at(host: str, src: Provenance | None, text: str) -> Evidence:
    """Quote a fact that has provenance but no Record (a chain policy, a subnet.env key); `(derived)`
    when the fact has no file of its own."""
    if src is None or not src.file:
        return Evidence(host=host, file="(derived)", line=0, text=text)
    return Evidence(host=host, file=src.file, line=src.line, text=text)
