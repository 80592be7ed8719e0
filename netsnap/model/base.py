"""Provenance and the parse-result envelope every parser returns."""

from __future__ import annotations

from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


class Provenance(NamedTuple):
    """Where a fact came from: the file inside the bundle and its 1-based line (0 = whole file).

    A named tuple rather than a model: every parsed item has one (100k iptables rules, 200k journal
    lines), and a tuple costs 72 bytes and ~0.5 us against ~300 bytes and 2 us for a model instance.
    Fields accept a Provenance or a `{"file", "line"}` mapping, and it serialises to that mapping,
    exactly as a model would (see `__get_pydantic_core_schema__`).
    """

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        mapping = core_schema.typed_dict_schema(
            {"file": core_schema.typed_dict_field(core_schema.str_schema()),
             "line": core_schema.typed_dict_field(
                 core_schema.with_default_schema(core_schema.int_schema(), default=0), required=False)},
            extra_behavior="forbid")
        from_mapping = core_schema.no_info_after_validator_function(_provenance_from, mapping)
        return core_schema.json_or_python_schema(
            json_schema=from_mapping,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_mapping]),
            serialization=core_schema.plain_serializer_function_ser_schema(_provenance_mapping, return_schema=mapping),
            ref="Provenance",
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        target = handler.resolve_ref_schema(out)
        target["title"] = "Provenance"
        target.pop("additionalProperties", None)  # extra keys are ignored, as a model's would be
        target["description"] = (cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        return out


def _provenance_from(value: dict[str, Any]) -> Provenance:
    return Provenance(value["file"], value.get("line", 0))


def _provenance_mapping(value: Provenance) -> dict[str, Any]:
    return {"file": value[0], "line": value[1]}


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
