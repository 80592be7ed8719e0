"""iptables-save parser: grammar edge cases, the fast path against the slow path, round trips."""

from __future__ import annotations

import gc
from ipaddress import IPv4Network, IPv6Network
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsnap.model.iptables import IptRule, Ruleset
from netsnap.parsers.iptables_rule import SpecReader, parse_spec, split_tokens, unquote
from netsnap.parsers.iptables_save import parse, variant_for


def _ruleset(text: str, file: str = "firewall/iptables-save") -> Ruleset:
    result = parse(text, file)
    assert len(result.items) == 1
    return result.items[0]


def _rules(text: str) -> list[IptRule]:
    rs = _ruleset(text)
    return [r for t in rs.tables.values() for c in t.chains.values() for r in c.rules]


def _one(spec: str) -> IptRule:
    rules = _rules(f"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {spec}\nCOMMIT\n")
    assert len(rules) == 1
    return rules[0]


@pytest.mark.parametrize(("file", "variant"), [
    ("firewall/iptables-save", "iptables"),
    ("firewall/ip6tables-save", "ip6tables"),
    ("firewall/iptables-legacy-save", "iptables-legacy"),
    ("firewall/iptables-nft-save", "iptables-nft"),
    ("sos_commands/networking/iptables-save", "iptables"),
    ("iptables-save_rhel8_nft.in", "iptables"),  # "nft" alone is the backend, not the command
])
def test_variant_from_file_name(file: str, variant: str) -> None:
    assert variant_for(file) == variant
    assert _ruleset("*filter\nCOMMIT\n", file).variant == variant


def test_comment_with_jump_goto_quotes_and_spaces_is_one_option() -> None:
    # insights-core crashes on the first and misreads the second as a goto (sos-and-insights.md §10.4)
    r = _one('-m comment --comment "allow -j stuff" -j ACCEPT')
    assert r.comment == "allow -j stuff" and r.target is not None and r.target.name == "ACCEPT"
    r = _one('-m comment --comment "ns/svc-g x" -j DNAT --to-destination 10.0.0.1:80')
    assert r.comment == "ns/svc-g x"
    assert r.target is not None and not r.target.goto and r.target.options == {"to-destination": "10.0.0.1:80"}
    r = _one('-m comment --comment "say \\"hi\\" -m tcp" -j ACCEPT')
    assert r.comment == 'say "hi" -m tcp' and len(r.matches) == 1


def test_both_negation_forms() -> None:
    new = _one("! -s 10.0.0.0/8 ! -d 10.1.0.0/16 ! -i eth0 ! -p tcp -j DROP")
    old = _one("-s ! 10.0.0.0/8 -d ! 10.1.0.0/16 -i ! eth0 -p ! tcp -j DROP")
    for r in (new, old):
        assert r.source is not None and r.source.negated and r.source.net == IPv4Network("10.0.0.0/8")
        assert r.destination is not None and r.destination.negated
        assert r.in_iface is not None and r.in_iface.negated and r.in_iface.value == "eth0"
        assert r.protocol is not None and r.protocol.negated


def test_implicit_protocol_module_and_fragment() -> None:
    r = _one("-p udp --dport 8472 -f -j ACCEPT")
    assert [(m.module, m.known) for m in r.matches] == [("udp", True)]
    opt = r.matches[0].option("dport")
    assert opt is not None and opt.values == ["8472"]
    assert r.fragment is True
    assert _one("! -f -j ACCEPT").fragment is False


def test_unknown_module_and_unknown_option_kept_verbatim() -> None:
    r = _one("-m recent --name ssh --rcheck --seconds 60 -m conntrack --ctstate NEW --weird 1 -j DROP")
    recent, conntrack = r.matches
    assert (recent.module, recent.known, recent.text) == ("recent", False, "-m recent --name ssh --rcheck --seconds 60")
    assert conntrack.known is False and conntrack.text == "-m conntrack --ctstate NEW --weird 1"
    ctstate = conntrack.option("ctstate")
    assert ctstate is not None and ctstate.values == ["NEW"]


def test_negated_option_and_flag_options() -> None:
    r = _one("-m conntrack ! --ctstate RELATED,ESTABLISHED -m physdev --physdev-is-bridged -j ACCEPT")
    ct = r.matches[0].option("ctstate")
    assert ct is not None and ct.negated and ct.values == ["RELATED,ESTABLISHED"]
    bridged = r.matches[1].option("physdev-is-bridged")
    assert bridged is not None and bridged.values == []


def test_target_options_goto_and_counters() -> None:
    r = _one("-j MASQUERADE --random-fully")
    assert r.target is not None and r.target.options == {"random-fully": ""}
    r = _one('-j LOG --log-prefix "kube drop: " --log-level 4')
    assert r.target is not None and r.target.options == {"log-prefix": "kube drop: ", "log-level": "4"}
    r = _one("-p tcp -g KUBE-SEP-X")
    assert r.target is not None and r.target.goto and r.target.name == "KUBE-SEP-X"
    rules = _rules("*nat\n:X - [0:0]\n[12:3456] -A X -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n")
    assert (rules[0].packets, rules[0].bytes) == (12, 3456)
    assert rules[0].target is not None and rules[0].target.options == {"set-xmark": "0x4000/0x4000"}


def test_positions_table_chain_provenance_on_crlf() -> None:
    text = ("*filter\r\n:INPUT ACCEPT [1:2]\r\n:X - [0:0]\r\n-A INPUT -j X\r\n-A X -j RETURN\r\n"
            "-A INPUT -j DROP\r\nCOMMIT\r\n")
    rs = _ruleset(text, "f")
    chain = rs.chain("filter", "INPUT")
    assert chain is not None and chain.policy == "ACCEPT" and (chain.packets, chain.bytes) == (1, 2)
    got = [(r.position, r.src.line, r.raw) for r in chain.rules]
    assert got == [(1, 4, "-A INPUT -j X"), (2, 6, "-A INPUT -j DROP")]
    user = rs.chain("filter", "X")
    assert user is not None and user.policy is None and not user.builtin
    assert all(r.table == "filter" for r in chain.rules)


def test_header_backend_version_warnings_family() -> None:
    text = ("# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n"
            "# Generated by ip6tables-save v1.8.7 (nf_tables) on Thu Nov 26 10:00:00 2026\n*filter\nCOMMIT\n")
    rs = _ruleset(text)
    assert (rs.backend, rs.version, rs.family) == ("nf_tables", "1.8.7", "ipv6")
    assert rs.warnings == ["iptables-legacy tables present, use iptables-legacy-save to see them"]
    assert _ruleset("# Generated by iptables-save v1.4.21 on x\n").backend == "legacy"
    assert _ruleset("*filter\n-A INPUT -s ::1/128 -j ACCEPT\nCOMMIT\n").family == "ipv6"


def test_count_mismatch_shows_up() -> None:
    result = parse("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -s -j DROP\nCOMMIT\n", "f")
    assert result.expected == 2 and result.items[0].rule_count() == 1
    assert any("2 -A lines but 1 rules parsed" in n for n in result.notes)
    assert [u.line for u in result.unparsed] == [4]


def test_gc_state_is_restored() -> None:
    assert gc.isenabled()
    parse("*filter\nCOMMIT\n", "f")
    assert gc.isenabled()
    gc.disable()
    try:
        parse("*filter\nCOMMIT\n", "f")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_unquote() -> None:
    assert unquote('"a \\"b\\" c"') == 'a "b" c'
    assert unquote("plain") == "plain"
    assert split_tokens('-m comment --comment "x y" -j A') == ["-m", "comment", "--comment", '"x y"', "-j", "A"]


# --- the cached fast path must give exactly what the one-pass slow path gives -------------------

SPECS = [
    "-j ACCEPT",
    "! -s 10.244.0.0/16 -d 10.96.0.10/32 -p udp -m comment --comment \"kube-system/kube-dns:dns cluster IP\" "
    "-m udp --dport 53 -j KUBE-MARK-MASQ",
    "-m comment --comment \"a -m b\" -j ACCEPT",
    "-m comment --comment \"a -j b\" -g X",
    "-p tcp --dport 80 -m multiport --dports 1,2 -j REJECT --reject-with tcp-reset",
    "-j LOG --log-prefix \"x -m y \"",
    "-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-ABC",
    "-s 10.0.0.1 -m set ! --match-set S src,dst -m mark ! --mark 0x1/0x1 -j DROP",
    "-m foo -s 1.2.3.4 -j ACCEPT",
    "-i eth0 -o flannel.1 -f -j ACCEPT",
    "-c 1 2 -j ACCEPT",
    "-m tcp ! --dport 22 stray -j ACCEPT",
]


def _dump(spec: Any) -> dict[str, Any]:
    keys = ("source", "destination", "in_iface", "out_iface", "protocol", "fragment", "target", "counters")
    out = {k: (v.model_dump() if hasattr(v, "model_dump") else v) for k in keys for v in [getattr(spec, k)]}
    out["matches"] = [m.model_dump() for m in spec.matches]
    return out


@pytest.mark.parametrize("spec", SPECS)
def test_fast_path_equals_slow_path(spec: str) -> None:
    reader = SpecReader()
    fast = reader.read(spec)
    again = reader.read(spec)  # second read comes from the caches
    slow = parse_spec(split_tokens(spec))
    assert _dump(fast) == _dump(slow) == _dump(again)


_word = st.text(alphabet="abcxyz019-_/:.", min_size=1, max_size=6)
_quoted = st.text(alphabet='ab -jmg"\\', max_size=8).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
_piece = st.one_of(
    st.sampled_from(["-s 10.0.0.0/8", "! -d 10.1.2.3/32", "-p tcp", "-i eth0", "-f", "!", "-m tcp", "--dport 80",
                     "-m comment --comment", "-m mark", "! --mark 0x1", "-j", "-g", "-m", "-j DNAT",
                     "--to-destination 1.2.3.4:5", "-c 1 2", "! -s 10.244.0.0/16", "-d 10.96.0.10/32", "! -p udp",
                     "-o flannel.1", "! -i cni0", "-s 1.2.3.4", "-j KUBE-SEP-ABC", "-g KUBE-X", "-j -x"]),
    _word, _quoted)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_piece, min_size=1, max_size=10))
def test_fast_path_equals_slow_path_on_generated_specs(pieces: list[str]) -> None:
    spec = " ".join(pieces)
    try:
        slow: Any = _dump(parse_spec(split_tokens(spec)))
    except ValueError as exc:
        slow = type(exc)
    try:
        fast: Any = _dump(SpecReader().read(spec))
    except ValueError as exc:
        fast = type(exc)
    assert fast == slow


# --- round trip: a generated ruleset rendered as iptables-save parses back to the same model ---

_addr = st.builds(lambda a, b, n: f"10.{a}.{b}.0/{n}", st.integers(0, 255), st.integers(0, 255), st.integers(8, 24))
_comment = st.text(alphabet="abc /:-jgm\"", min_size=1, max_size=12)


@st.composite
def _rule_specs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    parts: list[str] = []
    want: dict[str, Any] = {"matches": []}
    if draw(st.booleans()):
        neg = draw(st.booleans())
        net = draw(_addr)
        parts.append(f"{'! ' if neg else ''}-s {net}")
        want["source"] = (IPv4Network(net, strict=False), neg)
    proto = draw(st.sampled_from([None, "tcp", "udp"]))
    if proto:
        parts.append(f"-p {proto}")
        want["protocol"] = proto
    if draw(st.booleans()):
        text = draw(_comment)
        parts.append('-m comment --comment "' + text.replace('"', '\\"') + '"')
        want["matches"].append(("comment", [("comment", [text], False)]))
    if proto and draw(st.booleans()):
        port = str(draw(st.integers(1, 65535)))
        parts.append(f"-m {proto} --dport {port}")
        want["matches"].append((proto, [("dport", [port], False)]))
    if draw(st.booleans()):
        prob = f"{draw(st.floats(0.01, 0.99)):.11f}"
        parts.append(f"-m statistic --mode random --probability {prob}")
        want["matches"].append(("statistic", [("mode", ["random"], False), ("probability", [prob], False)]))
    target = draw(st.sampled_from(["ACCEPT", "DROP", "KUBE-SEP-ABC", "DNAT"]))
    goto = target.startswith("KUBE") and draw(st.booleans())
    parts.append(f"{'-g' if goto else '-j'} {target}")
    want["target"] = (target, goto, {})
    if target == "DNAT":
        parts.append("--to-destination 10.244.1.5:8080")
        want["target"] = (target, False, {"to-destination": "10.244.1.5:8080"})
    return " ".join(parts), want


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["INPUT", "FORWARD", "KUBE-SVC-A", "KUBE-SEP-B"]),
                       st.lists(_rule_specs(), max_size=5), min_size=1), st.booleans())
def test_round_trip(chains: dict[str, list[tuple[str, dict[str, Any]]]], counters: bool) -> None:
    lines = ["*nat"]
    lines += [f":{c} {'ACCEPT' if c.isupper() and '-' not in c else '-'} [0:0]" for c in chains]
    for chain, rules in chains.items():
        for i, (spec, _) in enumerate(rules):
            lines.append(f"{f'[{i}:{i * 60}] ' if counters else ''}-A {chain} {spec}")
    lines.append("COMMIT")
    result = parse("\n".join(lines) + "\n", "iptables-save")
    # the generated rules may jump to KUBE-SEP-ABC, which the dump does not declare: that is said, nothing else
    jumps = [n for n in result.notes if n.startswith("rules jump to chains the dump does not hold")]
    assert result.unparsed == [] and result.notes == jumps
    assert all(n.endswith(": KUBE-SEP-ABC") for n in jumps)
    table = result.items[0].tables["nat"]
    assert list(table.chains) == list(chains)
    for chain, rules in chains.items():
        got = table.chains[chain].rules
        assert len(got) == len(rules)
        for i, (rule, (_, want)) in enumerate(zip(got, rules, strict=True)):
            assert rule.position == i + 1
            assert (rule.packets, rule.bytes) == ((i, i * 60) if counters else (None, None))
            assert ((rule.source.net, rule.source.negated) if rule.source else None) == want.get("source")
            assert (rule.protocol.value if rule.protocol else None) == want.get("protocol")
            got_matches = [(m.module, [(o.name, o.values, o.negated) for o in m.options]) for m in rule.matches]
            assert got_matches == want["matches"]
            assert all(m.known for m in rule.matches)
            assert rule.target is not None
            assert (rule.target.name, rule.target.goto, rule.target.options) == want["target"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_garbage_never_raises(text: str) -> None:
    result = parse(text, "iptables-save")
    assert len(result.items) == 1
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    for u in result.unparsed:
        assert lines[u.line - 1] == u.text


def test_ipv6_rules() -> None:
    rs = _ruleset("*filter\n-A INPUT -s fe80::/10 -d ff02::1 -j ACCEPT\nCOMMIT\n", "x/ip6tables-save")
    rule = rs.tables["filter"].chains["INPUT"].rules[0]
    assert rule.source is not None and rule.source.net == IPv6Network("fe80::/10")
    assert rule.destination is not None and rule.destination.net == IPv6Network("ff02::1/128")


def test_missing_commit_is_noted() -> None:
    result = parse("*nat\n:X - [0:0]\n*filter\n:INPUT ACCEPT [0:0]\n", "f")
    assert result.notes == ["line 3: table nat has no COMMIT before *filter",
                            "table filter has no COMMIT (truncated dump?)"]
    assert set(result.items[0].tables) == {"nat", "filter"}


def test_rules_in_key_sharing_dicts_behave_like_validated_rules() -> None:
    """Rules are built without validation into key-sharing dicts: they must equal validated rules,
    count every field as set, and stay independent of each other when one is changed."""
    rules = _rules("*filter\n:INPUT ACCEPT [0:0]\n[3:180] -A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT\n"
                   "-A INPUT -j DROP\nCOMMIT\n")
    assert len(rules) == 2
    for rule in rules:
        assert IptRule.model_validate(rule.model_dump()) == rule
        assert rule.model_fields_set == set(IptRule.model_fields)
    assert (rules[0].packets, rules[0].bytes, rules[1].packets, rules[1].bytes) == (3, 180, None, None)
    rules[0].position = 99
    rules[0].chain = "OTHER"
    assert (rules[1].position, rules[1].chain) == (2, "INPUT")
    copy = rules[1].model_copy(update={"position": 7})
    assert (copy.position, rules[1].position) == (7, 2)
