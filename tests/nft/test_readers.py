"""The two nftables readers against each other and against what older nft versions and pastes print.

The captured pairs (tests/parsers/fixtures/nft_text, nft_json: the same rulesets listed as text and as
JSON by real nft 1.0.6) must give the same model apart from provenance and rendering; the text
reader must also take the syntax older nft releases printed (RHEL 8.0's nft 0.9.0: numeric priorities,
`reject with icmpx type admin-prohibited`, `# xt_...` comments for untranslated iptables-nft matches).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netsnap.model.firewalld import FirewalldZone
from netsnap.model.nftables import NftExpr, NftRuleset
from netsnap.parsers import firewalld_cmd, nft_json, nft_text
from netsnap.parsers.nft_names import priority_value
from netsnap.parsers.nft_statements import read_rule

FIX = Path(__file__).resolve().parents[1] / "parsers" / "fixtures"
PAIRS = [
    ("diverse-nft-1.0.6-a", "diverse-nft-1.0.6"),
    ("kube-proxy-like-nft-1.0.6-a", "kube-proxy-like-nft-1.0.6"),
    ("firewalld-1.3.3-cluster-a", "firewalld-1.3.3-cluster"),
    ("iptables-nft-1.8.9-compat-sos-stderr", "iptables-nft-1.8.9-compat"),
]


def _text(name: str) -> NftRuleset:
    result = nft_text.parse((FIX / "nft_text" / f"{name}.in").read_text(), f"{name}.in")
    assert result.unparsed == []
    return result.items[0]


def _json(name: str) -> NftRuleset:
    result = nft_json.parse((FIX / "nft_json" / f"{name}.in").read_text(), f"{name}.in")
    assert result.unparsed == []
    return result.items[0]


def _semantic(e: NftExpr) -> tuple[Any, ...]:
    return (e.kind, tuple(e.left), e.mask, e.op, tuple(e.right), e.set_ref, tuple(e.mapping), e.verdict, e.target,
            e.reject_with, e.addr, e.port, e.value if e.kind != "xt" else None)


@pytest.mark.parametrize(("text", "js"), PAIRS, ids=[p[1] for p in PAIRS])
def test_text_and_json_give_the_same_ruleset(text: str, js: str) -> None:
    t, j = _text(text), _json(js)
    assert list(t.tables) == list(j.tables)
    for key, ttable in t.tables.items():
        jtable = j.tables[key]
        assert ttable.compat == jtable.compat
        assert set(ttable.chains) == set(jtable.chains)
        assert {n: (s.kind, s.key_type, s.data_type, s.elements, s.values) for n, s in ttable.sets.items()} == {
            n: (s.kind, s.key_type, s.data_type, s.elements, s.values) for n, s in jtable.sets.items()}
        for name, tchain in ttable.chains.items():
            jchain = jtable.chains[name]
            assert (tchain.type, tchain.hook, tchain.priority, tchain.policy) == (
                jchain.type, jchain.hook, jchain.priority, jchain.policy), name
            if text.endswith("-a"):
                assert [r.handle for r in tchain.rules] == [r.handle for r in jchain.rules]
            assert len(tchain.rules) == len(jchain.rules)
            for tr, jr in zip(tchain.rules, jchain.rules, strict=True):
                tx = [_semantic(e) for e in tr.exprs if e.kind not in ("counter", "xt")]
                jx = [_semantic(e) for e in jr.exprs if e.kind not in ("counter", "xt")]
                if not any(e.kind == "xt" for e in jr.exprs):  # nft translates xt matches in text only
                    assert tx == jx, tr.raw
                assert tr.comment == jr.comment


def test_compat_text_shows_what_json_hides() -> None:
    # iptables-nft's conntrack match: `ct state related,established` in text, an opaque xt object in JSON
    t = _text("iptables-nft-1.8.9-compat-sos-stderr").tables["ip filter"].chains["INPUT"].rules[0]
    j = _json("iptables-nft-1.8.9-compat").tables["ip filter"].chains["INPUT"].rules[0]
    assert [e.kind for e in t.exprs if e.kind != "counter"] == ["match", "verdict"]
    assert t.exprs[0].right == ["related", "established"]
    assert [e.text for e in j.exprs if e.kind == "xt"] == ["xt match conntrack"]


def test_text_rules_keep_line_handle_and_text() -> None:
    rs = _text("firewalld-1.3.3-cluster-a")
    rule = next(r for r in rs.tables["inet firewalld"].chains["filter_IN_public_allow"].rules if r.handle == 254)
    lines = (FIX / "nft_text" / "firewalld-1.3.3-cluster-a.in").read_text().splitlines()
    assert lines[rule.src.line - 1].strip() == rule.raw == "udp dport 8472 accept # handle 254"
    assert rule.ref == "inet firewalld filter_IN_public_allow handle 254"


def test_pretty_json_gives_each_rule_its_line() -> None:
    one = _json("diverse-nft-1.0.6")
    pretty = nft_json.parse((FIX / "nft_json" / "diverse-pretty-derived.in").read_text(), "p.json").items[0]
    one_lines = {r.src.line for t in one.tables.values() for c in t.chains.values() for r in c.rules}
    assert one_lines == {1}
    text = (FIX / "nft_json" / "diverse-pretty-derived.in").read_text().splitlines()
    for table in pretty.tables.values():
        for chain in table.chains.values():
            for rule in chain.rules:
                assert text[rule.src.line - 1].strip() == '"rule": {', rule.ref
                assert f'"handle": {rule.handle},' in "\n".join(text[rule.src.line:rule.src.line + 6]), rule.ref


@pytest.mark.parametrize(("text", "want"), [
    ("filter", 0), ("filter + 10", 10), ("filter - 5", -5), ("mangle + 10", -140), ("dstnat", -100),
    ("srcnat + 10", 110), ("-150", -150), ("10", 10), ("raw", -300), ("security", 50), ("filter 10", None),
    ("bogus", None), ("", None),
])
def test_priority_names(text: str, want: int | None) -> None:
    assert priority_value(text, "inet") == want


def test_bridge_priority_names_differ() -> None:
    assert priority_value("filter", "bridge") == -200 and priority_value("srcnat", "bridge") == 300


def test_old_nft_syntax() -> None:
    # nft 0.9.0 (RHEL 8.0) as firewalld 0.6 rules print there
    text = """table inet firewalld {
\tchain filter_INPUT {
\t\ttype filter hook input priority 10; policy accept;
\t\tct state established,related accept
\t\tiifname "lo" accept
\t\tjump filter_INPUT_ZONES_SOURCE
\t\tjump filter_INPUT_ZONES
\t\tct state invalid drop
\t\treject with icmpx type admin-prohibited
\t}
\tchain filter_INPUT_ZONES_SOURCE {
\t}
\tchain filter_INPUT_ZONES {
\t\tiifname "eth0" goto filter_IN_public
\t\tgoto filter_IN_public
\t}
\tchain filter_IN_public {
\t}
}
table ip filter {
\tchain INPUT {
\t\ttype filter hook input priority 0; policy accept;
\t\tcounter packets 3 bytes 252 accept # xt_conntrack
\t}
}
"""
    result = nft_text.parse(text, "old.txt")
    assert result.unparsed == [] and result.expected == 9
    rs = result.items[0]
    chain = rs.tables["inet firewalld"].chains["filter_INPUT"]
    assert chain.priority == 10 and chain.priority_text == "10"
    assert chain.rules[-1].exprs[0].reject_with == "icmpx admin-prohibited"
    compat = rs.tables["ip filter"]
    assert compat.compat
    rule = compat.chains["INPUT"].rules[0]
    assert [e.kind for e in rule.exprs] == ["counter", "verdict", "xt"] and rule.packets == 3
    assert any("xt expressions" in n for n in result.notes)


def test_unknown_statements_are_kept_and_counted() -> None:
    parts = read_rule('osf name "Linux" ip saddr 10.0.0.1 tproxy to :8080 accept', "inet")
    kinds = [(e.kind, e.text) for e in parts.exprs]
    assert kinds[0] == ("unknown", 'osf name "Linux"')
    assert ("match", "ip saddr 10.0.0.1") in kinds
    assert ("unknown", "tproxy to :8080") in kinds
    assert kinds[-1] == ("verdict", "accept")
    assert parts.unknown == 2
    result = nft_text.parse("table ip t {\n chain c {\n  osf name \"Linux\" drop\n }\n}\n", "u.txt")
    assert result.items[0].unknown == 1 and any("not understood" in n for n in result.notes)


@pytest.mark.parametrize("line", [
    'ip daddr . tcp dport { 10.0.0.1 . 443, 10.0.0.2 . 80 } accept',
    'tcp flags & (fin | syn | rst | ack) == syn drop',
    'ip saddr != { 10.0.0.0/8, 192.168.0.0/16 } counter packets 10 bytes 840 drop comment "not ours"',
    'meta l4proto { tcp, udp } th dport 53 accept',
    'ct status dnat accept',
    'snat ip to 192.168.0.11:1000-2000 persistent',
    'dnat to ip daddr map { 10.0.0.1 : 10.244.1.5 }',
    'queue num 2 bypass',
    'limit rate over 10/second drop',
    'add @seen { ip saddr } accept',
])
def test_statement_shapes(line: str) -> None:
    parts = read_rule(line, "inet")
    assert parts.exprs and parts.unknown == 0, [(e.kind, e.text) for e in parts.exprs]
    assert all(e.text for e in parts.exprs)


def test_statement_values() -> None:
    concat = read_rule('ip daddr . tcp dport { 10.0.0.1 . 443, 10.0.0.2 . 80 } accept', "inet").exprs[0]
    assert concat.left == ["ip daddr", "tcp dport"] and concat.right == ["10.0.0.1 . 443", "10.0.0.2 . 80"]
    flags = read_rule('tcp flags & (fin | syn | rst | ack) == syn drop', "inet").exprs[0]
    assert (flags.mask, flags.op, flags.right) == ("fin,syn,rst,ack", "==", ["syn"])
    neg = read_rule('ip saddr != { 10.0.0.0/8, 192.168.0.0/16 } counter packets 10 bytes 840 drop comment "x"',
                    "inet")
    assert neg.exprs[0].op == "!=" and neg.exprs[0].anonymous and neg.comment == "x" and neg.packets == 10
    snat = read_rule('snat ip to 192.168.0.11:1000-2000 persistent', "inet").exprs[0]
    assert (snat.verdict, snat.addr, snat.port) == ("snat", "192.168.0.11", "1000-2000")
    mapped = read_rule('dnat to ip daddr map { 10.0.0.1 : 10.244.1.5 }', "inet").exprs[0]
    assert mapped.kind == "nat" and not mapped.known
    bare = read_rule("reject", "ip").exprs[0]
    assert bare.reject_with == "icmp port-unreachable"
    assert read_rule("reject", "inet").exprs[0].reject_with == "icmpx port-unreachable"


@pytest.mark.parametrize("text", [
    "", "\n\n", "}}}}\n", "table\n", "{" * 5000, '{"nftables": 5}', '[1, 2]', "table inet x {\n" * 3000,
    '{"nftables": [{"table": {"family": "bogus", "name": "x"}}, {"rule": {"family": "ip", "table": "nope"}}]}',
    '{"nftables": [{"table": {"family": "ip", "name": "t"}}, {"chain": {"family": "ip", "table": "t", "name": "c"}}, '
    '{"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"weird": 1}, 7, {"match": {}}]}}]}',
    "[" * 100000,
])
def test_hostile_input_never_raises(text: str) -> None:
    for parse in (nft_text.parse, nft_json.parse):
        result = parse(text, "hostile")
        for line in result.unparsed:
            assert line.line >= 1
        assert all(isinstance(n, str) for n in result.notes)


def test_json_oddities_are_noted_not_lost() -> None:
    doc = {"nftables": [{"table": {"family": "ip", "name": "t"}},
                        {"chain": {"family": "ip", "table": "t", "name": "c"}},
                        {"rule": {"family": "ip", "table": "t", "chain": "c",
                                  "expr": [{"weird": {"x": 1}}, {"accept": None}]}},
                        {"flowtable": {"family": "ip", "table": "t", "name": "f"}},
                        {"rule": {"family": "ip", "table": "t", "chain": "missing", "expr": []}}]}
    result = nft_json.parse(json.dumps(doc), "odd.json")
    rs = result.items[0]
    rule = rs.tables["ip t"].chains["c"].rules[0]
    assert rule.exprs[0].kind == "unknown" and rule.exprs[0].text == '{"weird":{"x":1}}'
    assert rs.unknown == 1 and result.expected == 2
    assert any("2 rule objects, 1 rules parsed" in n for n in result.notes)
    assert any("1 flowtable" in n for n in result.notes)
    assert any("chain missing not listed" in n for n in result.notes)


def test_oversized_json_is_refused_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nft_json, "MAX_CHARS", 100)
    result = nft_json.parse('{"nftables": []}' + " " * 200, "big.json")
    assert result.items == [] and "not parsed" in result.notes[0] and result.unparsed


def test_firewalld_zones_read_the_active_bindings() -> None:
    result = firewalld_cmd.parse((FIX / "firewalld_zones" / "firewalld-1.3.3-cluster.in").read_text(),
                                 "firewall/firewalld-list-all-zones")
    zones = {z.name: z for z in result.items if isinstance(z, FirewalldZone)}
    public, trusted = zones["public"], zones["trusted"]
    assert public.active and public.interfaces == ["eth1"] and public.ports == ["8472/udp"] and public.masquerade
    assert public.rich_rules == ['rule family="ipv4" source address="192.168.0.0/24" port port="10250" '
                                 'protocol="tcp" accept']
    assert trusted.target == "ACCEPT" and trusted.sources == ["10.244.0.0/16"]
    assert zones["block"].target == "%%REJECT%%" and not zones["block"].active


def test_firewalld_setting_key_comes_from_the_file_name() -> None:
    assert firewalld_cmd.setting_key("sos_commands/firewalld/firewall-cmd_--get-log-denied") == "log_denied"
    assert firewalld_cmd.setting_key("firewall/firewalld-default-zone") == "default_zone"
    assert firewalld_cmd.setting_key("firewall/firewalld-state") == "state"
    two = firewalld_cmd.parse("running\nextra\n", "firewall/firewalld-state")
    assert two.items == [] and len(two.unparsed) == 2
