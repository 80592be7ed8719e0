"""Unchecked construction must give instances indistinguishable from validated ones."""

from __future__ import annotations

import copy
import pickle
from ipaddress import ip_network

from netsnap.model.base import Provenance
from netsnap.model.iptables import AddrMatch, IptRule, Target
from netsnap.model.unchecked import fast_record, key_sharing_dict, slim_record


def _values() -> dict[str, object]:
    return {"src": Provenance("f", 4), "raw": "-A INPUT -s 10.0.0.0/8 -j DROP", "table": "filter",
            "chain": "INPUT", "position": 1,
            "source": fast_record(AddrMatch, {"net": ip_network("10.0.0.0/8"), "negated": False}),
            "destination": None, "in_iface": None, "out_iface": None, "protocol": None, "fragment": None,
            "matches": [],
            "target": fast_record(Target, {"name": "DROP", "goto": False, "options": {}, "text": "-j DROP"}),
            "packets": None, "bytes": None}


def test_fast_and_slim_records_equal_validated_ones() -> None:
    validated = IptRule.model_validate(_values())
    for build in (fast_record, slim_record):
        rule = build(IptRule, _values())
        assert rule == validated
        assert rule.model_dump() == validated.model_dump()
        assert rule.model_dump_json() == validated.model_dump_json()
        assert rule.model_fields_set == set(IptRule.model_fields)
        assert pickle.loads(pickle.dumps(rule)) == rule
        assert copy.deepcopy(rule) == rule
        assert repr(rule) == repr(validated)


def test_assignment_and_copies_stay_independent() -> None:
    a, b = slim_record(IptRule, _values()), slim_record(IptRule, _values())
    a.position = 5
    assert b.position == 1
    c = b.model_copy(update={"chain": "FORWARD"})
    assert (b.chain, c.chain) == ("INPUT", "FORWARD")


def test_key_sharing_dict_holds_every_field_once() -> None:
    proto = key_sharing_dict(IptRule)
    assert list(proto) == list(IptRule.model_fields) and set(proto.values()) == {None}
    assert key_sharing_dict(IptRule) is proto


def test_compact_shares_equal_scalars_and_keeps_the_record_equal() -> None:
    from netsnap.model.routes import Route
    from netsnap.model.unchecked import compact

    def route(line: int) -> Route:
        return Route(src=Provenance("r", line), raw="x", origin="ip-route", dst=ip_network(f"10.0.{line}.0/24"),
                     gateway="192.168.1.1", dev="".join(["et", "h0"]))

    shared: dict[object, object] = {}
    a, b = route(1), route(2)
    before = (a.model_dump(), b.model_dump())
    assert a.dev is not b.dev and a.gateway is not b.gateway
    compact(a, shared)
    compact(b, shared)
    assert (a.model_dump(), b.model_dump()) == before
    assert a.dev is b.dev and a.gateway is b.gateway and a.dst is not b.dst
    b.metric = 5  # still an ordinary, independent record
    assert a.metric == 0 and Route.model_validate(b.model_dump()) == b
