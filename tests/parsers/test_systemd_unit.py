"""systemctl cat flanneld: drop-ins, resets, continuations, Environment= quoting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.parsers.systemd_unit import parse

UNIT = """# /usr/lib/systemd/system/flanneld.service
[Unit]
Description=flannel
ExecStart=/not/service/section
[Service]
EnvironmentFile=-/etc/sysconfig/flanneld
Environment="A=b c" D=e
ExecStart=/usr/bin/flanneld-start \\
    $FLANNEL_OPTIONS
ExecStartPost=/usr/libexec/flannel/mk-docker-opts.sh

# /etc/systemd/system/flanneld.service.d/override.conf
[Service]
Environment=
Environment=FLANNELD_IFACE=eth1
EnvironmentFile=/run/flannel/options.env
ExecStart=
ExecStart=/usr/bin/flanneld ${FLANNEL_OPTIONS}
"""


def test_drop_in_resets_and_adds() -> None:
    result = parse(UNIT, "flannel/systemctl-cat")
    [unit] = result.items
    assert unit.exec_start == ["/usr/bin/flanneld ${FLANNEL_OPTIONS}"]
    assert unit.exec_start_line == 18
    assert unit.environment == {"FLANNELD_IFACE": "eth1"}
    assert unit.environment_lines == {"FLANNELD_IFACE": 15}
    assert unit.environment_files == ["-/etc/sysconfig/flanneld", "/run/flannel/options.env"]
    assert unit.files == ["/usr/lib/systemd/system/flanneld.service",
                          "/etc/systemd/system/flanneld.service.d/override.conf"]
    assert unit.name == "flanneld.service"
    assert result.unparsed == []


def test_continuation_joins_lines_and_quoted_environment() -> None:
    [unit] = parse(UNIT.split("\n# /etc")[0], "u").items
    assert unit.exec_start == ["/usr/bin/flanneld-start $FLANNEL_OPTIONS"]
    assert unit.exec_start_line == 8
    assert unit.environment == {"A": "b c", "D": "e"}


def test_single_unit_file_without_header_is_named_after_the_file() -> None:
    [unit] = parse("[Service]\nExecStart=/usr/bin/flanneld --iface=eth1\n", "etc/systemd/system/flanneld.service").items
    assert unit.name == "flanneld.service"
    assert unit.exec_start == ["/usr/bin/flanneld --iface=eth1"]


def test_garbage_lines_are_unparsed() -> None:
    result = parse("[Service]\nnot a setting\n; comment\n", "u")
    assert [u.line for u in result.unparsed] == [2]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    parse(text, "u")
