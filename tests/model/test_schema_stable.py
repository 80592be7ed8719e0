"""`netsnap schema` prints exactly the committed schemas: a model change that alters what `parse --format
json` or `analyze --format json` may hold (issue 17: lazy records must not) shows up here, on purpose.

After a deliberate change, regenerate: `netsnap schema --output model > tests/model/schemas/model.schema.json`
(and `--output analyze > .../analyze.schema.json`), and say in the change what consumers will see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.cli.schema import SchemaOf, schema_text

SCHEMAS = Path(__file__).resolve().parent / "schemas"


@pytest.mark.parametrize("of", list(SchemaOf), ids=[o.value for o in SchemaOf])
def test_schema_is_the_committed_one(of: SchemaOf) -> None:
    assert schema_text(of) == (SCHEMAS / f"{of.value}.schema.json").read_text()
