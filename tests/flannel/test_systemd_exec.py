"""systemd ExecStart expansion: $VAR splits, ${VAR} is one argument, the RPM wrapper (flannel.md §3.4)."""

from __future__ import annotations

from netsnap.flannel.systemd_exec import expand_exec_start
from netsnap.flannel.systemd_words import split_words
from netsnap.model.base import Provenance
from netsnap.model.flannel import FlagValue

UNIT = Provenance(file="flannel/systemctl-cat", line=14)


def env(**values: str) -> dict[str, FlagValue]:
    return {k: FlagValue(name=k, value=v, via="env-file", src=Provenance(file="flannel/etc-sysconfig-flanneld", line=i))
            for i, (k, v) in enumerate(values.items(), start=1)}


def argv(command: str, **values: str) -> list[str]:
    return [a.text for a in expand_exec_start(command, env(**values), UNIT).argv]


def test_dollar_var_splits_on_whitespace_including_newlines() -> None:
    assert argv("/usr/bin/flanneld $OPTS", OPTS="--iface=eth1\n  --ip-masq") == [
        "/usr/bin/flanneld", "--iface=eth1", "--ip-masq"]


def test_braced_var_is_exactly_one_argument() -> None:
    assert argv("/usr/bin/flanneld ${OPTS}", OPTS="--iface=eth1 --ip-masq") == [
        "/usr/bin/flanneld", "--iface=eth1 --ip-masq"]
    assert argv("/usr/bin/flanneld --iface=${IF}x", IF="eth") == ["/usr/bin/flanneld", "--iface=ethx"]


def test_unset_variables() -> None:
    assert argv("/usr/bin/flanneld $NOPE --iface=eth1") == ["/usr/bin/flanneld", "--iface=eth1"]
    assert argv("/usr/bin/flanneld ${NOPE} --iface=eth1") == ["/usr/bin/flanneld", "", "--iface=eth1"]
    exp = expand_exec_start("/usr/bin/flanneld ${NOPE}", {}, UNIT)
    assert any("not set" in n for n in exp.notes)


def test_prefixes_dollar_dollar_and_quotes() -> None:
    assert argv('-/usr/bin/flanneld "--iface=a b" $$HOME') == ["/usr/bin/flanneld", "--iface=a b", "$HOME"]


def test_provenance_points_at_the_variable_line() -> None:
    exp = expand_exec_start("/usr/bin/flanneld $OPTS", env(X="1", OPTS="-a\n-b"), UNIT)
    assert [(a.text, a.src.line, a.via) for a in exp.argv[1:]] == [("-a", 2, "$OPTS"), ("-b", 3, "$OPTS")]
    assert exp.argv[0].src == UNIT


def test_rpm_wrapper_prefers_new_names_and_falls_back_to_old() -> None:
    assert argv("/usr/bin/flanneld-start $FLANNEL_OPTIONS", FLANNEL_ETCD_ENDPOINTS="http://e:2379",
                FLANNEL_ETCD_PREFIX="/atomic.io/network", FLANNEL_OPTIONS="-iface=eth1") == [
        "/usr/bin/flanneld", "-etcd-endpoints=http://e:2379", "-etcd-prefix=/atomic.io/network", "-iface=eth1"]
    assert argv("/usr/bin/flanneld-start", FLANNEL_ETCD="http://old:4001", FLANNEL_ETCD_ENDPOINTS="",
                FLANNEL_ETCD_KEY="/coreos.com/network") == [
        "/usr/bin/flanneld", "-etcd-endpoints=http://old:4001", "-etcd-prefix=/coreos.com/network"]


def test_rpm_wrapper_with_nothing_set_passes_empty_flags() -> None:
    exp = expand_exec_start("/usr/bin/flanneld-start", {}, UNIT)
    assert [a.text for a in exp.argv] == ["/usr/bin/flanneld", "-etcd-endpoints=", "-etcd-prefix="]
    assert len(exp.problems) == 2 and exp.wrapper


def test_split_words() -> None:
    assert split_words('a "b c" \'d e\' f\\ g "h\\"i"') == (["a", "b c", "d e", "f g", 'h"i'], None)
    assert split_words('a "b') == (["a", "b"], 'unterminated " quote')
