"""Go flag semantics as flanneld sees them (flannel.md §1.1)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.flannel.flags import KNOWN_FLAGS, env_name, go_bool, go_int
from netsnap.flannel.goflag import Arg, FlagParse, parse_flags
from netsnap.model.base import Provenance

SRC = Provenance(file="f", line=1)


def run(*args: str) -> FlagParse:
    return parse_flags([Arg(a, SRC, "test") for a in args])


def flags(p: FlagParse) -> dict[str, str]:
    return {k: v.value for k, v in p.flags.items()}


def test_four_spellings_are_equivalent() -> None:
    for argv in (["-iface", "eth1"], ["-iface=eth1"], ["--iface", "eth1"], ["--iface=eth1"]):
        assert flags(run(*argv)) == {"iface": "eth1"}, argv


def test_boolean_needs_equals_and_the_word_after_stops_parsing() -> None:
    p = run("--ip-masq", "false", "--iface=eth1")
    assert flags(p) == {"ip-masq": "true"}
    assert [a.text for a in p.ignored] == ["false", "--iface=eth1"]
    assert p.stopped_at is not None and p.stopped_at.text == "false"
    assert flags(run("--ip-masq=false", "--iface=eth1")) == {"ip-masq": "false", "iface": "eth1"}
    assert flags(run("-ip-masq=T")) == {"ip-masq": "true"}


def test_non_flag_word_empty_argument_dash_and_terminator_stop_parsing() -> None:
    stray = run("--iface=eth1", "stray", "--public-ip=1.2.3.4")
    assert [a.text for a in stray.ignored] == ["stray", "--public-ip=1.2.3.4"]
    assert [a.text for a in run("", "--iface=eth1").ignored] == ["", "--iface=eth1"]
    assert [a.text for a in run("-", "--iface=eth1").ignored] == ["-", "--iface=eth1"]
    p = run("--ip-masq", "--", "--iface=eth1")
    assert flags(p) == {"ip-masq": "true"} and [a.text for a in p.ignored] == ["--iface=eth1"]


def test_value_flag_takes_the_next_word_even_if_it_looks_like_a_flag() -> None:
    assert flags(run("--iface", "--ip-masq")) == {"iface": "--ip-masq"}


def test_repeatable_iface_keeps_every_value_and_first_in_flags() -> None:
    p = run("--iface=eth1", "-iface", "eth2", "--iface-regex=^10\\.")
    assert [fv.value for fv in p.repeated["iface"]] == ["eth1", "eth2"]
    assert p.flags["iface"].value == "eth1"
    assert [fv.value for fv in p.repeated["iface-regex"]] == ["^10\\."]


def test_string_flag_given_twice_last_wins() -> None:
    assert flags(run("--public-ip=1.1.1.1", "--public-ip=2.2.2.2")) == {"public-ip": "2.2.2.2"}


def test_errors_are_problems() -> None:
    p = run("--no-such-flag=1", "--iface=eth1")
    assert flags(p) == {"no-such-flag": "1", "iface": "eth1"}
    assert "unknown flag" in p.problems[0] and "(f:1)" in p.problems[0]
    bad = run("--ip-masq=yes", "--iface=eth1")
    assert bad.fatal and "invalid boolean" in bad.problems[0] and "iface" not in bad.flags
    assert run("--healthz-port=abc").fatal
    missing = run("--iface")
    assert missing.fatal and "needs an argument" in missing.problems[0]
    assert run("---iface=x").fatal


def test_env_names_and_go_value_parsers() -> None:
    assert env_name("iface-can-reach") == "FLANNELD_IFACE_CAN_REACH"
    assert env_name("log_dir") == "FLANNELD_LOG_DIR"
    assert [go_bool(v) for v in ("1", "t", "TRUE", "True", "0", "F", "false", "yes", "")] == [
        True, True, True, True, False, False, False, None, None]
    assert [go_int(v) for v in ("5", "0x10", "010", "-3", "", "1_0", " 5")] == [5, 16, 8, -3, None, None, None]


WORDS = st.sampled_from(["--iface=eth1", "-ip-masq", "--kube-subnet-mgr", "-public-ip", "10.0.0.1", "true", "--",
                         "-v=2", "--iface-regex", "^eth", "", "stray"])


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=10))
def test_parsed_and_ignored_partition_the_arguments(words: list[str]) -> None:
    p = run(*words)
    ignored = [a.text for a in p.ignored]
    assert ignored == words[len(words) - len(ignored):]
    for name in p.flags:
        assert name in KNOWN_FLAGS
