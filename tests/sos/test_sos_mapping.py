"""The sos name table (netsnap/sources.py) and how a sosreport's files map onto sources: version ranges
read from the sos plugin sources, other namespaces kept apart, links inside the archive, one file per
device, and sos's own account of what it skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from netsnap.bundle.reader import open_bundle
from netsnap.engine.run import run_rules
from netsnap.load import load_bundle, load_snapshot
from netsnap.model.host import SourceState
from netsnap.sources import BY_ID, SOS_ONLY_SOURCES, SOS_RELEASES_READ, SOURCES, SosName, sos_version
from tests.bundle.tarbuild import write_dir, write_tar

FIXTURE = next((Path(__file__).resolve().parents[2] / "fixtures" / "sos-4.0").glob("sosreport-node1-*"))
ALL = (*SOURCES, *SOS_ONLY_SOURCES)


def _names(version: str) -> dict[str, list[str]]:
    return {s.id: [n.path for n in s.sos_names if n.written_by(version)] for s in ALL}


@pytest.mark.parametrize(("text", "parsed"), [("4.0", (4, 0, 0)), ("4.5.4", (4, 5, 4)), ("3.9", (3, 9, 0)),
                                              ("4.0-2", (4, 0, 0)), ("4.10.0", (4, 10, 0)), ("x", (0, 0, 0))])
def test_sos_version(text: str, parsed: tuple[int, ...]) -> None:
    assert sos_version(text) == parsed


def test_release_ranges_read_from_the_sos_sources() -> None:
    net = "sos_commands/networking/"
    assert _names("3.5")["ip_neigh"] == [net + "ip_neigh_show"]
    assert _names("3.5.1")["ip_neigh"] == [net + "ip_-s_-s_neigh_show"]
    assert _names("3.6")["bridge_fdb"] == [] and _names("3.7")["bridge_fdb"] == [net + "bridge_-s_-s_-d_-t_fdb_show"]
    assert _names("4.3")["ip_rule"] == [net + "ip_-4_rule"] and _names("4.4")["ip_rule"] == [net + "ip_-4_rule_list"]
    assert _names("4.5.3")["route_n"] == [net + "route_-n"] and _names("4.5.4")["route_n"] == []
    assert net + "iptables_-vnxL" in _names("4.0")["iptables_list"]
    assert "sos_commands/firewall_tables/iptables_-vnxL" in _names("4.1")["iptables_list"]
    assert net + "iptables_-vnxL" not in _names("4.1")["iptables_list"]
    assert _names("4.12.0")["subnet_env"] == ["run/flannel/subnet.env"]
    assert _names("3.8")["subnet_env"] == ["var/run/flannel/subnet.env"]
    # names no sos release writes for the host
    for sid in ("iptables_save", "ip6tables_save", "ipset", "net_conf", "flannel_cmdline"):
        assert BY_ID[sid].sos_names == () and BY_ID[sid].sos_gap, sid


def test_every_name_is_well_formed() -> None:
    first, last = (sos_version(v) for v in SOS_RELEASES_READ)
    for source in ALL:
        assert source.sos_names or source.sos_gap, f"{source.id}: no sos name and no reason"
        for n in source.sos_names:
            assert isinstance(n, SosName) and n.plugin, (source.id, n)
            assert first <= sos_version(n.since) <= last, (source.id, n)
            assert n.until is None or sos_version(n.since) <= sos_version(n.until) <= last, (source.id, n)
            # another namespace's outputs are never a host name
            assert "ip_netns_exec" not in n.path and "/namespaces/" not in n.path, (source.id, n)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, root, symlinks=True)
    return root


def test_other_namespaces_are_listed_apart_in_both_layouts(tmp_path: Path) -> None:
    """sos < 4.3 writes `ip_netns_exec_NS_...` beside the host's files; sos >= 4.3 a folder per namespace. A
    namespace name may hold `_` (CNI names): the manifest's commands name it exactly."""
    ns = "cni-0f3a_b7"
    manifest = {"version": "4.2", "components": {"report": {"plugins": {"networking": {"commands": [
        {"exec": f"ip netns exec {ns} ip route show table all", "return_code": 0,
         "filepath": f"sos_commands/networking/ip_netns_exec_{ns}_ip_route_show_table_all"}]}}}}}
    path = write_tar(tmp_path / "s.tgz", {
        "sos_reports/manifest.json": json.dumps(manifest),
        f"sos_commands/networking/ip_netns_exec_{ns}_ip_route_show_table_all": "default via 10.244.0.1 dev eth0\n",
        f"sos_commands/networking/ip_netns_exec_{ns}_ip_address_show": "1: lo: <LOOPBACK,UP> mtu 65536\n",
        "sos_commands/networking/namespaces/qrouter-1/ip_netns_exec_qrouter-1_ip_-d_address_show": "1: lo: <UP>\n",
        "sos_commands/networking/ip_route_show_table_all": "default via 192.168.0.1 dev eth1\n",
    })
    bundle = open_bundle(path)
    assert bundle.namespaces == {
        ns: [f"sos_commands/networking/ip_netns_exec_{ns}_ip_address_show",
             f"sos_commands/networking/ip_netns_exec_{ns}_ip_route_show_table_all"],
        "qrouter-1": ["sos_commands/networking/namespaces/qrouter-1/ip_netns_exec_qrouter-1_ip_-d_address_show"],
    }
    assert bundle.files["ip_route"].text == "default via 192.168.0.1 dev eth1\n"
    assert set(bundle.files) == {"ip_route"}


def test_a_namespace_without_run_data_is_still_kept_apart(tmp_path: Path) -> None:
    top = "sosreport-n1-2026-01-01-abcdef/sos_commands/networking/"
    path = write_tar(tmp_path / "s.tgz", {
        top + "ip_netns_exec_pod_a_iptables-save": "*filter\nCOMMIT\n",
        top + "ip_route_show_table_all": "default via 192.168.0.1 dev eth1\n",
    })
    bundle = open_bundle(path)
    assert bundle.namespaces == {"pod_a": ["sos_commands/networking/ip_netns_exec_pod_a_iptables-save"]}
    assert "iptables_save" not in bundle.files and "iptables_save" not in bundle.missing


def test_links_are_followed_component_by_component(tmp_path: Path) -> None:
    """proc/net -> self/net and proc/self -> PID (sos 4.x), lib -> usr/lib: resolved inside the archive."""
    host = load_bundle(FIXTURE)
    st = host.sources["proc_net_route"]
    assert st.state is SourceState.OK and st.file is not None and st.file.endswith("/net/route")
    assert st.file.startswith("proc/") and st.file != "proc/net/route"
    assert host.sources["os_release"].file == "usr/lib/os-release"


def test_every_device_keeps_its_own_ethtool_file() -> None:
    host = load_bundle(FIXTURE)
    st = host.sources["ethtool"]
    assert st.file == "sos_commands/networking/ethtool_-k_*"
    assert st.notes[0].startswith("6 files: sos_commands/networking/ethtool_-k_cni0, ")
    by_dev = {f.dev: f.src for f in host.ethtool if f.name == "tx-checksumming"}
    assert set(by_dev) == {"cni0", "eth0", "eth1", "flannel.1", "lo", "vethc"}
    for dev, src in by_dev.items():
        assert src.file == f"sos_commands/networking/ethtool_-k_{dev}"
        line = (FIXTURE / src.file).read_text().splitlines()[src.line - 1]
        assert line.startswith("tx-checksumming: "), (dev, line)


def test_a_tailed_device_file_makes_the_source_truncated(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    dev = root / "sos_commands/networking/ethtool_-k_eth0"
    tailed = root / "sos_strings/networking/ethtool_-k_eth0.tailed"
    tailed.parent.mkdir(parents=True)
    dev.rename(tailed)
    dev.symlink_to("../../sos_strings/networking/ethtool_-k_eth0.tailed")
    sf = open_bundle(root).files["ethtool"]
    assert sf.state is SourceState.TRUNCATED
    assert any(n.startswith("tailed by sos: sos_commands/networking/ethtool_-k_eth0 links to") for n in sf.notes)


def test_a_command_sos_skipped_is_not_collected_with_its_reason(tmp_path: Path) -> None:
    """sos skips iptables when the modules it checks for are not loaded (sos.log says so): the firewall is
    "not collected", the inventory shows why, and the rules that need it are not evaluated, never passed."""
    root = _copy(tmp_path)
    (root / "sos_commands/networking/iptables_-vnxL").unlink()
    manifest = root / "sos_reports/manifest.json"
    data = json.loads(manifest.read_text())
    net = data["components"]["report"]["plugins"]["networking"]
    net["commands"] = [c for c in net["commands"] if c["exec"] != "iptables -vnxL"]  # sos lists no skipped command
    manifest.write_text(json.dumps(data))
    (root / "sos_logs").mkdir()
    (root / "sos_logs/sos.log").write_text(
        "2026-12-07 15:08:26,034 WARNING: [plugin:networking] skipped command 'iptables -vnxL': required kmods "
        "missing: nf_tables, iptable_filter. \n")
    bundle = open_bundle(root)
    sf = bundle.missing["iptables_list"]
    assert sf.state is SourceState.NOT_COLLECTED and sf.file == "sos_commands/networking/iptables_-vnxL"
    assert sf.notes == ["sos skipped it: required kmods missing: nf_tables, iptable_filter"]
    result = run_rules(load_snapshot([str(root)]), only=["NS201"])
    (skipped,) = [n for n in result.not_evaluated if n.rule == "NS201"]
    assert skipped.hosts == ["node1"]
    assert not [r for r in result.rule_runs if r.rule == "NS201" and r.status == "passed"]


def test_sos_3_release_from_version_txt(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "sosreport-old-2019-05-01-abcdef", {
        "version.txt": "sosreport: 3.9\nnetworking: 3.9\n",
        "sos_commands/networking/ip_route_show_table_all": "default via 10.0.0.1 dev eth0\n",
    })
    assert open_bundle(root).collector_version == "sos 3.9"


def test_journal_and_unit_names_of_each_release(tmp_path: Path) -> None:
    """The whole journal (3.9+) wins over this boot's (3.6+ `--catalog --boot`), which wins over the previous
    boot's; the unit is found through a `lib` link to usr/lib (merged /usr)."""
    line = "Dec  7 15:00:00 node1 flanneld[812]: I1207 15:00:00.000000     812 main.go:1] flannel line\n"
    logs = "sosreport-n1-2026-01-01-abc/sos_commands/logs/"
    unit = "[Service]\nExecStart=/usr/bin/flanneld -iface=eth1\n"
    cases = [
        ({"journalctl_--no-pager_--catalog_--boot_-1": line, "journalctl_--no-pager_--catalog_--boot": line},
         "journalctl_--no-pager_--catalog_--boot"),
        ({"journalctl_--no-pager_--catalog_--boot": line, "journalctl_--no-pager": line}, "journalctl_--no-pager"),
        ({"journalctl_--no-pager_--since_-3days": line, "journalctl_--no-pager_--boot": line},
         "journalctl_--no-pager_--since_-3days"),
    ]
    for i, (files, chosen) in enumerate(cases):
        members: dict[str, bytes | str] = {logs + name: text for name, text in files.items()}
        members["sosreport-n1-2026-01-01-abc/usr/lib/systemd/system/flanneld.service"] = unit
        root = write_dir(tmp_path / str(i), members)
        (root / "sosreport-n1-2026-01-01-abc/lib").symlink_to("usr/lib")
        bundle = open_bundle(root)
        assert bundle.files["flannel_journal"].file == "sos_commands/logs/" + chosen, files
        assert bundle.files["flannel_unit"].file == "usr/lib/systemd/system/flanneld.service"
