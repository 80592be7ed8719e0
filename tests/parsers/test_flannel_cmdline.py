"""flanneld argv dump: processes split on '# pid N', empty arguments kept between arguments."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.flannel_cmdline import parse


def test_processes_and_empty_arguments() -> None:
    result = parse("# pid 10\n/usr/bin/flanneld\n\n--iface=eth1\n\n# pid 11\nflanneld\n", "flannel/cmdline")
    assert [(p.pid, p.argv, p.arg_lines) for p in result.items] == [
        (10, ["/usr/bin/flanneld", "", "--iface=eth1"], [2, 3, 4]),
        (11, ["flanneld"], [7]),
    ]
    assert result.expected == 2


def test_argument_text_is_kept_verbatim() -> None:
    [proc] = parse("flanneld\n--iface=eth1 --ip-masq\n", "c").items
    assert proc.pid is None
    assert proc.argv == ["flanneld", "--iface=eth1 --ip-masq"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r\x00#", blacklist_categories=["Cs"]),
                        min_size=1, max_size=20).filter(lambda s: s.strip() == s and s), min_size=1, max_size=8))
def test_argv_round_trip(argv: list[str]) -> None:
    [proc] = parse("# pid 7\n" + "\n".join(argv) + "\n", "c").items
    assert proc.argv == argv


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    parse(text, "c")
