"""iptables list format (-nvL / -vnxL / -nL): columns, counters, match text mapped onto the save model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsnap.model.iptables import IptRule
from netsnap.parsers import iptables_list, iptables_save
from netsnap.parsers.iptables_list import counter, parse, table_from_file

HEADER = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target prot opt in out source destination\n"


def _row(extra: str, target: str = "ACCEPT", prot: str = "all", src: str = "0.0.0.0/0") -> IptRule:
    text = HEADER + f"    1    60 {target:10} {prot:4} --  *      *       {src:20} 0.0.0.0/0            {extra}\n"
    result = parse(text, "iptables-nvL")
    assert result.unparsed == [], result.notes
    (table,) = result.items[0].tables.values()  # named by its targets when they tell (DNAT: nat)
    return table.chains["INPUT"].rules[0]


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1234", 1234), ("12K", 12000), ("3M", 3_000_000),
                                             ("98G", 98_000_000_000), ("x", None), ("K", None), ("-1", None)])
def test_counter(text: str, value: int | None) -> None:
    assert counter(text) == value


@pytest.mark.parametrize(("file", "table"), [("sos_commands/firewall_tables/iptables_-t_nat_-nvL", "nat"),
                                             ("sos_commands/networking/iptables_-t_filter_-nvL", "filter"),
                                             ("iptables -t mangle -nvL", "mangle"),
                                             ("sos_commands/firewall_tables/iptables_-vnxL", None)])
def test_table_from_file(file: str, table: str | None) -> None:
    assert table_from_file(file) == table


def _mods(rule: IptRule) -> list[tuple[str, bool, list[tuple[str, list[str], bool]]]]:
    return [(m.module, m.known, [(o.name, o.values, o.negated) for o in m.options]) for m in rule.matches]


@pytest.mark.parametrize(("extra", "want"), [
    ("udp dpt:8472", [("udp", True, [("dport", ["8472"], False)])]),
    ("tcp spts:1024:65535 dpt:!22", [("tcp", True, [("sport", ["1024:65535"], False), ("dport", ["22"], True)])]),
    ("/* kube-dns:dns cluster IP */", [("comment", True, [("comment", ["kube-dns:dns cluster IP"], False)])]),
    ("state RELATED,ESTABLISHED", [("state", True, [("state", ["RELATED,ESTABLISHED"], False)])]),
    ("ctstate NEW", [("conntrack", True, [("ctstate", ["NEW"], False)])]),
    ("multiport dports 80,443", [("multiport", True, [("dports", ["80,443"], False)])]),
    ("match-set KUBE-CLUSTER-IP dst,dst", [("set", True, [("match-set", ["KUBE-CLUSTER-IP", "dst,dst"], False)])]),
    ("! match-set S src", [("set", True, [("match-set", ["S", "src"], True)])]),
    ("ADDRTYPE match dst-type LOCAL", [("addrtype", True, [("dst-type", ["LOCAL"], False)])]),
    ("mark match ! 0x4000/0x4000", [("mark", True, [("mark", ["0x4000/0x4000"], True)])]),
    ("statistic mode random probability 0.25000000000",
     [("statistic", True, [("mode", ["random"], False), ("probability", ["0.25000000000"], False)])]),
    ("PHYSDEV match --physdev-is-bridged", [("physdev", True, [("physdev-is-bridged", [], False)])]),
    ("icmptype 8", [("icmp", True, [("icmp-type", ["8"], False)])]),
    ("limit: avg 3/min burst 5", [("limit", True, [("limit", ["3/min"], False), ("limit-burst", ["5"], False)])]),
    ("recent: CHECK seconds: 60", [("?", False, [])]),
])
def test_match_text_maps_onto_modules(extra: str, want: list[Any]) -> None:
    assert _mods(_row(extra)) == want


def test_unknown_match_text_is_kept_verbatim() -> None:
    rule = _row("udp dpt:53 frobnicate 7 /* c */")
    unknown = [m for m in rule.matches if not m.known]
    assert [(m.module, m.text) for m in unknown] == [("?", "frobnicate 7")]


@pytest.mark.parametrize(("target", "extra", "options"), [
    ("REJECT", "reject-with icmp-host-prohibited", {"reject-with": "icmp-host-prohibited"}),
    ("DNAT", "tcp to:10.244.1.5:8080", {"to-destination": "10.244.1.5:8080"}),
    ("SNAT", "to:192.168.1.10", {"to-source": "192.168.1.10"}),
    ("MARK", "MARK or 0x4000", {"or-mark": "0x4000"}),
    ("MASQUERADE", "random-fully", {"random-fully": ""}),
    ("LOG", 'LOG flags 0 level 4 prefix "kube drop: "', {"log-flags": "0", "log-level": "4",
                                                          "log-prefix": "kube drop: "}),
])
def test_target_text_maps_onto_target_options(target: str, extra: str, options: dict[str, str]) -> None:
    rule = _row(extra, target=target)
    assert rule.target is not None and rule.target.name == target and rule.target.options == options


def test_columns_negation_and_empty_target() -> None:
    text = (HEADER + "    0     0            all  --  eth0   !docker0  !10.0.0.0/8   0.0.0.0/0\n"
            "    5   300 CUSTOM     tcp  -f  *      *       0.0.0.0/0     10.96.0.10           [goto] \n")
    rules = parse(text, "x").items[0].tables["filter"].chains["INPUT"].rules
    first, second = rules
    assert first.target is None and first.in_iface is not None and first.in_iface.value == "eth0"
    assert first.out_iface is not None and first.out_iface.negated and first.out_iface.value == "docker0"
    assert first.source is not None and first.source.negated and str(first.source.net) == "10.0.0.0/8"
    assert first.destination is None  # 0.0.0.0/0 is "any", as in the save format
    assert second.target is not None and second.target.goto and second.fragment is True
    assert second.destination is not None and str(second.destination.net) == "10.96.0.10/32"
    assert (second.position, second.packets, second.bytes, second.src.line) == (2, 5, 300, 4)


def test_no_counters_format_and_chain_headers() -> None:
    text = ("Chain FORWARD (policy DROP)\ntarget     prot opt source               destination\n"
            "ACCEPT     udp  --  0.0.0.0/0            0.0.0.0/0            udp dpt:8472\n\n"
            "Chain KUBE-X (2 references)\ntarget     prot opt source               destination\n")
    rs = parse(text, "iptables -nL").items[0]
    fwd = rs.tables["filter"].chains["FORWARD"]
    assert fwd.policy == "DROP" and fwd.packets is None
    unknown, udp = fwd.rules[0].matches
    assert fwd.rules[0].packets is None and udp.module == "udp"
    # without -v the interfaces are not printed: the rule may have -i/-o, so it carries an unknown match
    assert not unknown.known and "-i/-o unknown" in unknown.text
    assert rs.tables["filter"].chains["KUBE-X"].policy is None


def test_table_hints_and_repeated_builtin_chain() -> None:
    text = ("# Table: nat\n" + HEADER.replace("INPUT", "POSTROUTING") + "\n" + HEADER + "\n" + HEADER)
    result = parse(text, "x")
    assert list(result.items[0].tables) == ["nat", "unknown-2"]
    assert any("a second listing without a table hint" in n for n in result.notes)


SAVE = """*nat
:KUBE-SVC-X - [0:0]
[7:420] -A KUBE-SVC-X -m comment --comment "ns/svc:http" -m statistic --mode random --probability 0.5 -j KUBE-SEP-A
[6:360] -A KUBE-SVC-X -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
[0:0] -A KUBE-SVC-X -s 10.244.0.0/16 -m conntrack --ctstate INVALID -j REJECT --reject-with icmp-port-unreachable
[1:60] -A KUBE-SVC-X -p udp -m udp --dport 8472 -m mark ! --mark 0x4000/0x4000 -j ACCEPT
COMMIT
"""
LIST = """# Table: nat
Chain KUBE-SVC-X (1 references)
    pkts      bytes target     prot opt in     out     source               destination
  7 420 KUBE-SEP-A all -- * * 0.0.0.0/0 0.0.0.0/0 /* ns/svc:http */ statistic mode random probability 0.5
  6 360 DNAT tcp -- * * 0.0.0.0/0 0.0.0.0/0 /* ns/svc:http */ tcp to:10.244.1.5:8080
  0 0 REJECT all -- * * 10.244.0.0/16 0.0.0.0/0 ctstate INVALID reject-with icmp-port-unreachable
  1 60 ACCEPT udp -- * * 0.0.0.0/0 0.0.0.0/0 udp dpt:8472 mark match ! 0x4000/0x4000
"""


def test_list_and_save_give_the_same_model() -> None:
    def comparable(rule: IptRule) -> tuple[Any, ...]:
        target = rule.target
        return (rule.position, rule.packets, rule.bytes, rule.source, rule.destination, rule.protocol,
                sorted((m.module, [(o.name, o.values, o.negated) for o in m.options]) for m in rule.matches),
                (target.name, target.goto, target.options) if target else None)

    saved = iptables_save.parse(SAVE, "iptables-save").items[0].tables["nat"].chains["KUBE-SVC-X"].rules
    listed = iptables_list.parse(LIST, "iptables-vnxL").items[0].tables["nat"].chains["KUBE-SVC-X"].rules
    assert [comparable(r) for r in listed] == [comparable(r) for r in saved]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "iptables-nvL")
    assert len(result.items) == 1
    assert not any(n.startswith("iptables list parser failed") for n in result.notes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([HEADER, "Chain X (1 references)\n", "  1 2 ACCEPT all -- * * 0.0.0.0/0 0.0.0.0/0\n",
                                 "    1 ACCEPT\n", "ACCEPT all -- 1.2.3.4 0.0.0.0/0\n", "\n", "junk\n"]), max_size=12))
def test_shuffled_lines_never_crash(parts: list[str]) -> None:
    result = parse("".join(parts), "x")
    assert not any(n.startswith("iptables list parser failed") for n in result.notes)


def test_formats_mixed_up_are_flagged() -> None:
    listed = parse("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n", "x")
    assert any("save format" in n for n in listed.notes)
    saved = iptables_save.parse(HEADER + "    0     0 ACCEPT all -- * * 0.0.0.0/0 0.0.0.0/0\n", "x")
    assert any("list format" in n for n in saved.notes)
    assert saved.items[0].rule_count() == 0 and len(saved.unparsed) == 3
