"""The collector's path table and docs/bundle-format.md's source table are generated from
netsnap/sources.py (`make docs`): both must be what the registry renders."""

from __future__ import annotations

from netsnap.source_docs import rendered
from netsnap.sources import SOURCES


def test_generated_blocks_are_fresh() -> None:
    for path, text in rendered().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make docs`"


def test_every_collected_source_is_in_both_tables() -> None:
    from netsnap.source_docs import bundle_table, collected, collector_case

    case, table = collector_case(), bundle_table()
    for s in SOURCES:
        assert (f"        {s.id}) SP={s.path} ;;" in case) == collected(s)
        assert (f"| `{s.id}` | `{s.path}` |" in table) == collected(s)
