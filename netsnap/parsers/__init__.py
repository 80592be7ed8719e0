"""Parsers: one TTP template per source (in `templates/`) and a thin typed wrapper per source.

Every wrapper has the signature `parse(text: str, file: str) -> Parsed[T]` and never raises on bad
input: what no template understood comes back in `Parsed.unparsed`.
"""
