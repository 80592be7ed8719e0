"""identity parser: content decides the fact, comments are understood, garbage never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.identity import parse


def facts(text: str) -> dict[str, str]:
    return {f.key: f.value for f in parse(text, "identity/x").items}


def test_each_source_shape_gives_its_key() -> None:
    assert facts("node-7\n") == {"hostname": "node-7"}
    assert facts("Linux n 4.18.0-513.el8.x86_64 #1 SMP x86_64 GNU/Linux\n")["kernel"] == "4.18.0-513.el8.x86_64"
    assert facts("Thu Nov 26 12:37:21 UTC 2026\n") == {"date": "Thu Nov 26 12:37:21 UTC 2026"}
    assert facts(" 09:00:01 up 1 day,  2:03,  0 users,  load average: 1.00, 0.50, 0.25\n")["uptime"].startswith(
        "09:00:01 up 1 day")


def test_os_release_values_are_unquoted_with_shell_rules() -> None:
    got = facts("NAME=\"Red Hat\"\nID='rhel'\nVARIANT=Server\\ Edition\n# NAME=ignored\n")
    assert got == {"os.NAME": "Red Hat", "os.ID": "rhel", "os.VARIANT": "Server Edition"}


def test_provenance_is_the_line() -> None:
    result = parse("\n# c\nID=ubuntu\n", "identity/os-release")
    assert [(f.src.file, f.src.line, f.raw) for f in result.items] == [("identity/os-release", 3, "ID=ubuntu")]
    assert result.unparsed == []


def test_unrecognised_lines_are_unparsed() -> None:
    result = parse("two words\n<script>x</script>\n", "identity/hostname")
    assert result.items == []
    assert [u.line for u in result.unparsed] == [1, 2]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    result = parse(text, "identity/x")
    lines = {f.src.line for f in result.items} | {u.line for u in result.unparsed}
    assert all(line >= 1 for line in lines)
