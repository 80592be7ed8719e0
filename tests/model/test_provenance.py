"""Provenance is a named tuple that must behave, for pydantic, exactly like the model it replaced."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from netsnap.model import Host
from netsnap.model.base import Provenance, Record


def test_fields_accept_a_provenance_or_a_mapping() -> None:
    assert Record(src=Provenance("a.txt", 3)).src == Provenance(file="a.txt", line=3)
    assert Record.model_validate({"src": {"file": "a.txt", "line": 3}}).src == Provenance("a.txt", 3)
    assert Record.model_validate({"src": {"file": "a.txt"}}).src.line == 0
    assert isinstance(Record.model_validate({"src": {"file": "a.txt"}}).src, Provenance)


@pytest.mark.parametrize("bad", [{"line": 3}, {"file": "a", "line": "x"}, "a.txt:3", 7, ["a", 3, 4]])
def test_malformed_provenance_is_a_validation_error(bad: object) -> None:
    with pytest.raises(ValidationError):
        Record.model_validate({"src": bad})


def test_serialises_as_a_mapping_in_python_and_json() -> None:
    rec = Record(src=Provenance("routes/route_n", 12), raw="x")
    assert rec.model_dump() == {"src": {"file": "routes/route_n", "line": 12}, "raw": "x"}
    assert rec.model_dump_json() == '{"src":{"file":"routes/route_n","line":12},"raw":"x"}'
    assert Record.model_validate_json(rec.model_dump_json()) == rec


def test_value_semantics() -> None:
    a, b = Provenance("f", 1), Provenance("f", 1)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert str(a) == "f:1" and str(Provenance("f")) == "f"
    assert a._replace(line=9) == Provenance("f", 9) and a.line == 1
    assert pickle.loads(pickle.dumps(Record(src=a))) == Record(src=a)


def test_json_schema_names_it_once_as_an_object() -> None:
    schema = Host.model_json_schema()
    definition = schema["$defs"]["Provenance"]
    assert definition["type"] == "object" and definition["required"] == ["file"]
    assert set(definition["properties"]) == {"file", "line"}
    assert definition["description"].startswith("Where a fact came from")
