"""sosreports (the fixture directory, and a tarball of it built on the fly) map onto source ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsnap.bundle.journal_filter import split_lines
from netsnap.bundle.model import Bundle
from netsnap.bundle.reader import open_bundle
from netsnap.bundle.sosreport import mangle
from netsnap.model.host import SourceState
from tests.bundle.tarbuild import tar_dir, write_dir, write_tar

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "reader" / "sosreport" / (
    "sosreport-worker2-2026-11-26-qwerty"
)


@pytest.fixture(params=["dir", "tar.xz", "tgz"])
def sos(request: pytest.FixtureRequest, tmp_path: Path) -> Bundle:
    if request.param == "dir":
        return open_bundle(FIXTURE)
    mode = "w:xz" if request.param == "tar.xz" else "w:gz"
    return open_bundle(tar_dir(tmp_path / f"{FIXTURE.name}.{request.param}", FIXTURE, mode))


def test_kind_host_and_run_data(sos: Bundle) -> None:
    assert sos.kind == "sosreport"
    assert sos.host == "worker2.example.com"  # root `hostname` symlink resolved inside the archive
    assert sos.collector_version == "sos 4.6.1"
    assert sos.collected_at == "2026-11-26T10:00:00"  # ctime-style start_time made ISO


def test_usable_sources(sos: Bundle) -> None:
    expected = {
        "hostname": "sos_commands/host/hostname",
        "ip_route": "sos_commands/networking/ip_route_show_table_all",
        "ip_addr": "sos_commands/networking/ip_-d_address",
        "ip_neigh": "sos_strings/networking/ip_-s_-s_neigh_show.tailed",
        "iptables_list": "sos_commands/firewall_tables/iptables_-vnxL",
        "sysctl": "sos_commands/kernel/sysctl_-a",
        "lsmod": "sos_commands/kernel/lsmod",
        "flannel_journal": "sos_commands/logs/journalctl_--no-pager",
        "flannel_env_sysconfig": "etc/sysconfig/flanneld",
        "subnet_env": "run/flannel/subnet.env",
    }
    assert {k: v.file for k, v in sos.files.items()} == expected
    assert sos.files["ip_route"].command == "ip route show table all"
    assert sos.files["ip_route"].duration_ms == 10


def test_states_from_the_sos_manifest(sos: Bundle) -> None:
    assert sos.missing["route_n"].state is SourceState.COMMAND_MISSING  # rc 127, no file written
    assert sos.missing["route_n"].exit_code == 127
    assert sos.missing["bridge_fdb"].state is SourceState.TIMED_OUT  # rc 124
    assert sos.missing["ethtool"].state is SourceState.EMPTY
    assert "iptables_save" not in sos.files and "iptables_save" not in sos.missing  # sos never runs it


def test_tailed_file_is_truncated_and_read_through_the_link(sos: Bundle) -> None:
    neigh = sos.files["ip_neigh"]
    assert neigh.state is SourceState.TRUNCATED
    assert neigh.text.startswith("192.168.0.1 dev eth1 lladdr")
    assert any(n.startswith("tailed by sos: sos_commands/networking/ip_-s_-s_neigh_show links to") for n in neigh.notes)


def test_journal_is_filtered_to_flannel_with_a_map_back_to_real_lines(sos: Bundle) -> None:
    journal = sos.files["flannel_journal"]
    real = split_lines((FIXTURE / "sos_commands/logs/journalctl_--no-pager").read_text())
    lines = split_lines(journal.text.removesuffix("\n"))
    assert journal.line_map is not None and len(journal.line_map) == len(lines) == 6
    for i, line in enumerate(lines, start=1):
        assert real[journal.file_line(i) - 1] == line
    assert "kubelet" not in journal.text and "sshd" not in journal.text and "crond" not in journal.text
    assert "-- Reboot --" in lines  # boot boundary between flannel lines is kept
    assert journal.file_line(1) == 4
    assert journal.file_line(0) == 0


def test_members_hold_only_what_was_mapped(sos: Bundle) -> None:
    assert "sos_reports/manifest.json" in sos.members
    assert "sos_commands/networking/ip_route_show_table_all" in sos.members
    assert all(not m.startswith("sos_commands/host/") or m.endswith("hostname") for m in sos.members)


def test_symlinks_are_summarised_not_followed(sos: Bundle) -> None:
    assert "skipped 2 symlinks (not followed; links inside the archive resolved)" in sos.problems


def test_old_sos_without_manifest(tmp_path: Path) -> None:
    """sos 3.x: empty file for a missing command; timeouts only in sos.log; host from the folder name."""
    root = write_dir(tmp_path / "sosreport-oldbox-1234-2019-05-01-abcdef", {
        "sos_commands/networking/route_-n": "",
        "sos_commands/networking/ip_route_show_table_all": "default via 10.0.0.1 dev eth0\n",
        "sos_commands/networking/ip_-d_address": "",
        "sos_logs/sos.log": "2019-05-01 10:00:00,000 WARNING: [plugin:networking] command 'ip -d address' "
                            "timed out after 300s\n",
    })
    sos = open_bundle(root)
    assert sos.kind == "sosreport"
    assert sos.host == "oldbox"
    assert sos.missing["route_n"].state is SourceState.EMPTY  # never "no routes"
    assert sos.missing["ip_addr"].state is SourceState.TIMED_OUT
    assert sos.files["ip_route"].state is SourceState.OK


def test_journal_without_flannel_lines_is_empty(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "sos.tar.xz", {
        "sosreport-a-2026-01-01-x/sos_commands/logs/journalctl_--no-pager":
            "Nov 26 08:00:05 a sshd[700]: Server listening\n",
    }, "w:xz")
    journal = open_bundle(path).missing["flannel_journal"]
    assert journal.state is SourceState.EMPTY
    assert journal.text == "" and journal.line_map == []


def test_nonzero_exit_with_output_is_kept(tmp_path: Path) -> None:
    manifest = {"version": "4.7.0", "components": {"report": {"plugins": {"networking": {"commands": [
        {"exec": "ip route show table all", "filepath": "sos_commands/networking/ip_route_show_table_all",
         "return_code": 2, "run_time": 0.1, "truncated": False}]}}}}}
    path = write_tar(tmp_path / "s.tgz", {
        "sos_reports/manifest.json": json.dumps(manifest),
        "sos_commands/networking/ip_route_show_table_all": "default via 10.0.0.1 dev eth0\n",
    })
    route = open_bundle(path).files["ip_route"]
    assert route.state is SourceState.OK
    assert "exit code 2 (output kept)" in route.notes


def test_broken_sos_manifest_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "s.tgz", {
        "sos_reports/manifest.json": "[1, 2",
        "sos_commands/networking/ip_route_show_table_all": "default via 10.0.0.1 dev eth0\n",
    })
    sos = open_bundle(path)
    assert any(p.startswith("sos_reports/manifest.json: not valid JSON") for p in sos.problems)
    assert sos.files["ip_route"].state is SourceState.OK


def test_link_escaping_the_archive_is_not_resolved(tmp_path: Path) -> None:
    root = tmp_path / "sosreport-x-2026-01-01-y"
    (root / "sos_commands" / "networking").mkdir(parents=True)
    (tmp_path / "outside").write_text("default via 6.6.6.6 dev evil\n")
    (root / "sos_commands" / "networking" / "ip_route_show_table_all").symlink_to("../../../outside")
    (root / "sos_commands" / "networking" / "ip_-d_address").write_text("1: lo: <LOOPBACK> mtu 1\n")
    sos = open_bundle(root)
    assert "ip_route" not in sos.files and "ip_route" not in sos.missing
    assert "6.6.6.6" not in "".join(sos.members.values())


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("/usr/sbin/route -n", "route_-n"),
        ("ip -d address", "ip_-d_address"),
        ("ip route show table all", "ip_route_show_table_all"),
        ("iptables -t filter -nvL", "iptables_-t_filter_-nvL"),
        ("journalctl --no-pager", "journalctl_--no-pager"),
    ],
)
def test_mangle_matches_sos_file_names(command: str, name: str) -> None:
    assert mangle(command) == name


@pytest.mark.parametrize(
    "manifest",
    [
        {"components": []},
        {"components": {"report": "x"}},
        {"components": {"report": {"plugins": ["networking"]}}},
        {"components": {"report": {"plugins": {"networking": {"commands": 7}}}}},
        {"components": {"report": {"plugins": {"networking": {"commands": [{"exec": 1}, "x", None]}}}}},
        {"version": 4, "start_time": ["x"]},
    ],
)
def test_odd_sos_manifest_shapes_are_tolerated(tmp_path: Path, manifest: object) -> None:
    path = write_tar(tmp_path / "s.tgz", {
        "sos_reports/manifest.json": json.dumps(manifest),
        "sos_commands/networking/ip_route_show_table_all": "default via 10.0.0.1 dev eth0\n",
    })
    sos = open_bundle(path)
    assert sos.files["ip_route"].state is SourceState.OK
    assert sos.collector_version is None and sos.collected_at is None


def test_pod_logs_and_other_devices_by_pattern(tmp_path: Path) -> None:
    pods = "var/log/pods/kube-system_kube-flannel-ds-x7k2p_0123/kube-flannel"
    path = write_tar(tmp_path / "s.tgz", {
        "sos_commands/networking/ethtool_-k_flannel.42": "Features for flannel.42:\n",
        f"{pods}/0.log": "old\n",
        f"{pods}/9.log": "older\n",
        f"{pods}/10.log": "2026-11-26T10:00:00Z stderr F I1126 main.go:1] current\n",
        "var/log/pods/kube-system_coredns-abc/coredns/0.log": "not flannel\n",
    })
    sos = open_bundle(path)
    assert sos.files["flannel_pod_logs"].file == f"{pods}/10.log"
    assert sos.files["ethtool"].file == "sos_commands/networking/ethtool_-k_flannel.42"
