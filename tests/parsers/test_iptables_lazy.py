"""iptables-save's lazy chains (issue 17) give exactly what the eager parse gives.

A lazy parse keeps each chain's rule lines unread when `SURE_SPEC` proves they read, and builds the
rules on the first read of `Chain.rules`; anything unusual (a wrapped line, a fragment, `iptables -S`)
makes it parse eagerly. Compared on every iptables-save input the repository holds (parser fixture
pairs, fixture bundles, sosreports, pastes), on generated kube-proxy nodes, and on mutations of them
that hit each eager fallback: the parse results (`model_dump`, as `netsnap parse --format json` prints
them), the rule counts and rule texts asked for before anything is built, and the equality of models.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from netsnap.model.base import Parsed
from netsnap.model.iptables import Chain, Ruleset
from netsnap.parsers import iptables_save
from netsnap.parsers.iptables_rule import SURE_SPEC, SpecReader, split_tokens
from tests.bench_generator import bench_generate

ROOT = Path(__file__).resolve().parents[2]
SAVE_SOURCES = ("iptables_save", "iptables_nft_save", "iptables_legacy_save", "ip6tables_save")



def _kube_node(services: int) -> str:
    return str(bench_generate().kube_node_iptables(services))


def _repository_inputs() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for source in SAVE_SOURCES:
        for path in sorted((ROOT / "tests" / "parsers" / "fixtures" / source).glob("*.in")):
            out.append((path.name, path.read_bytes().decode("utf-8", errors="replace")))
    for top in ("fixtures", "tests"):
        for path in sorted((ROOT / top).rglob("*")):
            name = path.name.lower().replace("_", "-")
            if (path.is_file() and "tables" in name and "save" in name and path.suffix not in (".json", ".py")
                    and "parsers/fixtures" not in str(path)):
                out.append((str(path.relative_to(ROOT)), path.read_bytes().decode("utf-8", errors="replace")))
    return out


def _mutations(text: str) -> list[tuple[str, str]]:
    """The kube node's dump changed so that each eager fallback (and the lines read at once) is hit."""
    lines = text.split("\n")
    rule = next(i for i, line in enumerate(lines) if line.startswith("-A KUBE-SVC-"))
    chain = next(i for i, line in enumerate(lines) if line.startswith(":KUBE-SVC-"))
    wrapped = [*lines[:rule], lines[rule][:40], lines[rule][40:], *lines[rule + 1:]]
    fragment = [line for line in lines if not line.startswith(("*", "COMMIT"))]
    redeclared = [*lines[:rule + 1], lines[chain], *lines[rule + 1:]]
    unsure = [line.replace(" -j ", " -m comment --comment 'x' -j ", 1) if line.startswith("-A KUBE-SEP-") else line
              for line in lines]  # a quote SURE_SPEC does not take: read at once
    broken = [*lines[:rule], lines[rule].replace("-j ", "-s 300.1.1.1 -j ", 1), *lines[rule + 1:]]
    garbage = [*lines[:rule], "this is not iptables", *lines[rule:]]
    undeclared = [*lines[:rule], "-A NOT-DECLARED -j ACCEPT", *lines[rule:]]
    listing = ["$ sudo iptables -t nat -S", *[line for line in lines if line.startswith("-A ")]]
    return [("wrapped", "\n".join(wrapped)), ("fragment", "\n".join(fragment)),
            ("redeclared", "\n".join(redeclared)), ("unsure", "\n".join(unsure)), ("broken", "\n".join(broken)),
            ("garbage", "\n".join(garbage)), ("undeclared", "\n".join(undeclared)), ("listing", "\n".join(listing)),
            ("crlf", text.replace("\n", "\r\n")), ("no-final-newline", text.rstrip("\n"))]


KUBE = _kube_node(60)
CASES = [*_repository_inputs(), ("kube-60", KUBE), ("kube-300", _kube_node(300)), *_mutations(KUBE)]


def _eager(text: str, file: str) -> Parsed[Ruleset]:
    return iptables_save._parse(text, file, iptables_save.variant_for(file), lazy=False)


def _chains(rs: Ruleset) -> list[Chain]:
    return [c for t in rs.tables.values() for c in t.chains.values()]


def test_the_inputs_are_many_and_varied() -> None:
    assert len(CASES) > 50
    assert sum(1 for name, _ in CASES if name.startswith("fixtures/")) >= 15


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_lazy_parse_gives_what_the_eager_parse_gives(name: str, text: str) -> None:
    file = name if "/" in name else f"firewall/{name}"
    lazy, eager = iptables_save.parse(text, file), _eager(text, file)
    assert len(lazy.items) == len(eager.items) == 1
    lazy_rs, eager_rs = lazy.items[0], eager.items[0]
    # what can be asked without building the rules
    heads = [(c.name, c.policy, c.packets, c.bytes, c.src, c.builtin) for c in _chains(lazy_rs)]
    assert heads == [(c.name, c.policy, c.packets, c.bytes, c.src, c.builtin) for c in _chains(eager_rs)]
    assert lazy_rs.rule_count() == eager_rs.rule_count()
    assert [c.rule_raws() for c in _chains(lazy_rs)] == [[r.raw for r in c.rules] for c in _chains(eager_rs)]
    # the parse as `netsnap parse --format json` prints it: same values, same key order
    assert json.dumps(lazy.model_dump(mode="json")) == json.dumps(eager.model_dump(mode="json"))
    assert lazy == eager
    assert all(c.is_built() for c in _chains(lazy_rs))


def test_a_kube_proxy_dump_stays_unbuilt_until_asked() -> None:
    parsed = iptables_save.parse(KUBE, "firewall/iptables-save")
    chains = _chains(parsed.items[0])
    assert len(chains) > 100
    assert not any(c.is_built() for c in chains)  # the laziness is real
    assert all(c.src.line > 0 and c.packets == 0 for c in chains) and not any(c.is_built() for c in chains)
    chain = next(c for c in chains if c.name.startswith("KUBE-SVC-"))
    copy = chain.model_copy()
    assert chain.rules and chain.is_built() and not copy.is_built()
    assert copy.rules == chain.rules
    assert list(chain.model_dump()) == list(Chain.model_fields)  # field order, no `_pending`
    assert sum(c.is_built() for c in chains) == 1


@pytest.mark.parametrize("mutation", ["wrapped", "fragment", "redeclared", "undeclared", "listing"])
def test_unusual_dumps_are_parsed_eagerly(mutation: str) -> None:
    text = dict(_mutations(KUBE))[mutation]
    parsed = iptables_save.parse(text, "firewall/iptables-save")
    assert all(c.is_built() for c in _chains(parsed.items[0]))


def _random_spec(rng: random.Random) -> str:
    words = ["-s", "-d", "-i", "-o", "-p", "-m", "--dport", "--source", "--comment", "!", "-j", "-g", "-f",
             "10.0.0.1", "10.0.0.0/8", "300.1.1.1", "1.2.3.4/33", "fe80::1", "eth0", "tcp", "udp", "comment",
             '"a b"', '"x -j y"', '"unterminated', "ACCEPT", "KUBE-SVC-X", "-c", "1", "2", "--to-destination",
             "10.1.1.1:80", "-", "--match", "--jump", "--in-interface", "a\\b", "0x4000/0x4000", "--mark"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(1, 9)))


def test_a_sure_spec_always_reads_as_ipv4_with_the_target_it_names() -> None:
    rng = random.Random(17)
    specs = [_random_spec(rng) for _ in range(30_000)]
    specs += [line.split(None, 2)[2] for _, text in CASES for line in text.split("\n")
              if line.startswith("-A ") and len(line.split(None, 2)) > 2]
    sure = 0
    for spec in specs:
        match = SURE_SPEC.fullmatch(spec)
        if match is None:
            continue
        sure += 1
        reader = SpecReader()
        _head, _matches, target = reader.parts(spec)  # raises if SURE_SPEC were wrong
        assert not reader.saw_ipv6, spec
        assert target is not None and target.name == match.group("target"), spec
        assert split_tokens(spec)  # and the slow path's tokenizer agrees it is one
    assert sure > 2_000  # the property was exercised, not vacuous


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_may_mention_never_rules_out_a_comment_that_holds_the_word(name: str, text: str) -> None:
    file = name if "/" in name else f"firewall/{name}"
    lazy, eager = iptables_save.parse(text, file).items[0], _eager(text, file).items[0]
    words = ("flannel", "kube", "KUBE-SVC", "cluster IP", "nothing-like-this")
    for lazy_chain, eager_chain in zip(_chains(lazy), _chains(eager), strict=True):
        for word in words:
            told = lazy_chain.may_mention(word)  # before anything is built
            exact = any(word in r.raw or "\\" in r.raw for r in eager_chain.rules)
            assert eager_chain.may_mention(word) == exact
            assert told or not exact  # lazily: the lines from the first rule to the last, a superset
            if eager_chain.rule_count() == 1:
                assert told == exact
            if any(word in (r.comment or "") for r in eager_chain.rules):
                assert told, (lazy_chain.name, word)
