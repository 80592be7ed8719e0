"""net-conf.json: JSON with the json module; invalid input becomes unparsed lines with a note."""

from __future__ import annotations

import json
from ipaddress import IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.net_conf import parse


def test_fields_and_provenance_line() -> None:
    text = '{\n  "SubnetLen": 24,\n  "Network": "10.244.0.0/16",\n  "Backend": {"Type": "vxlan", "VNI": 4096, ' \
           '"Port": 4789, "MTU": 1400, "DirectRouting": true}\n}\n'
    [conf] = parse(text, "flannel/net-conf.json").items
    assert conf.network == IPv4Network("10.244.0.0/16")
    assert (conf.subnet_len, conf.backend_type, conf.vni, conf.port, conf.mtu, conf.direct_routing) == (
        24, "vxlan", 4096, 4789, 1400, True)
    assert conf.src.line == 3


def test_defaults_when_backend_missing() -> None:
    [conf] = parse('{"Network": "10.1.0.0/16"}', "f").items
    assert (conf.backend_type, conf.port, conf.vni, conf.direct_routing) == ("vxlan", None, None, False)


def test_invalid_inputs_are_unparsed_with_a_note() -> None:
    for text in ('{"Network": "10.1.0.0/16",', "[]", '{"Network": "nope"}', '{"Backend": "vxlan"}',
                 '{"Backend": {"Port": "x"}}'):
        result = parse(text, "f")
        assert result.items == [], text
        assert result.unparsed and result.notes and result.notes[0].startswith("f: "), text


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                    max_leaves=10))
def test_any_json_never_raises(doc: object) -> None:
    parse(json.dumps({"Network": doc, "Backend": doc}), "f")


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_any_text_never_raises(text: str) -> None:
    parse(text, "f")
