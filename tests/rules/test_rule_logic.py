"""Rule logic on variations of the healthy cluster's parsed model (cases too fiddly for file overlays)."""

from __future__ import annotations

import json
from datetime import UTC
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from netsnap.engine.findings import Finding, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.model import Snapshot
from netsnap.secgroups.attach import attach
from tests.rules.bundles import FIXTURES

HEALTHY = [str(FIXTURES / "healthy" / h) for h in ("master", "node1")]


@pytest.fixture
def healthy() -> Snapshot:
    return load_snapshot(HEALTHY)


def fired(snapshot: Snapshot, rule: str, **kw: object) -> list[Finding]:
    res = run_rules(snapshot, only=[rule], **kw)  # type: ignore[arg-type]
    return [f for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]


def _vtep(snapshot: Snapshot, host: str, ip: str) -> None:
    h = snapshot.host(host)
    assert h is not None and h.interfaces["flannel.1"].vxlan is not None
    h.interfaces["flannel.1"].vxlan.local = IPv4Address(ip)


def test_every_node_with_the_same_address(healthy: Snapshot) -> None:
    for name in ("master", "node1"):
        _vtep(healthy, name, "10.0.2.15")
    found = fired(healthy, "NS301")
    assert found and all("same-vtep" in f.key for f in found)
    assert "10.0.2.15" in found[0].explanation and set(found[0].hosts) == {"master", "node1"}


def test_public_ip_outside_peer_networks(healthy: Snapshot) -> None:
    _vtep(healthy, "master", "203.0.113.5")
    # the peer has a default route: the address may be reachable through it (NAT): no alarm
    assert fired(healthy, "NS301") == []
    node1 = healthy.host("node1")
    assert node1 is not None
    node1.routes = [r for r in node1.routes if not r.is_default]
    found = fired(healthy, "NS301")
    assert found and found[0].severity == Severity.WARNING and "203.0.113.5" in found[0].explanation


def test_stale_vtep_mac_on_peer_entry(healthy: Snapshot) -> None:
    master = healthy.host("master")
    assert master is not None
    neigh = next(n for n in master.neighbours if n.dev == "flannel.1")
    neigh.lladdr = "aa:bb:cc:dd:ee:ff"
    found = fired(healthy, "NS306")
    assert found and "aa:bb:cc:dd:ee:ff" in found[0].explanation and "6e:0b:8a:12:4f:02" in found[0].explanation


def test_single_bundle_learns_peers_from_its_own_fdb() -> None:
    snap = load_snapshot([str(FIXTURES / "incident-a" / "master")])
    found = fired(snap, "NS301")
    assert found and "192.168.0.16" in found[0].explanation  # node1's VTEP from the fdb entry
    rejects = fired(snap, "NS201")
    assert any("-input-" in f.key for f in rejects)


def test_security_group_with_unresolvable_remote_group(healthy: Snapshot, tmp_path: Path) -> None:
    sg = tmp_path / "sg.json"
    sg.write_text(json.dumps([
        {"ID": "x", "IP Protocol": "udp", "Ethertype": "IPv4", "IP Range": None, "Port Range": "8472:8472",
         "Direction": "ingress", "Remote Security Group": "sg-nodes"},
        {"ID": "y", "IP Protocol": None, "Ethertype": "IPv4", "IP Range": "0.0.0.0/0", "Port Range": "",
         "Direction": "egress", "Remote Security Group": None},
    ]))
    groups = attach(healthy, f"master={sg}")
    found = fired(healthy, "NS203", security_groups=groups)
    assert found and found[0].severity == Severity.WARNING and "undecidable" in found[0].explanation


def test_overlay_port_follows_the_device_not_8472(healthy: Snapshot, tmp_path: Path) -> None:
    for name in ("master", "node1"):
        h = healthy.host(name)
        assert h is not None and h.interfaces["flannel.1"].vxlan is not None
        h.interfaces["flannel.1"].vxlan.dstport = 4789
    sg = tmp_path / "sg.json"
    sg.write_text(json.dumps([
        {"ID": "x", "IP Protocol": "udp", "Ethertype": "IPv4", "IP Range": "10.10.0.0/24", "Port Range": "8472:8472",
         "Direction": "ingress", "Remote Security Group": None},
    ]))
    found = fired(healthy, "NS203", security_groups=attach(healthy, f"master={sg}"))
    assert found and "UDP 4789" in found[0].explanation and "opens UDP 8472, not 4789" in found[0].explanation


def test_duplicate_defaults_with_different_metrics_is_a_note(healthy: Snapshot) -> None:
    master = healthy.host("master")
    assert master is not None
    default = next(r for r in master.routes if r.is_default)
    master.routes.append(default.model_copy(update={"dev": "eth1", "gateway": IPv4Address("10.10.0.1"), "metric": 200}))
    res = run_rules(healthy, only=["NS101"])
    assert [f.severity for f in res.findings] == [Severity.INFO]
    master.routes[-1] = master.routes[-1].model_copy(update={"metric": default.metric})
    res = run_rules(healthy, only=["NS101"])
    assert [f.severity for f in res.findings] == [Severity.ERROR]
    assert "ip route del default via 10.10.0.1 dev eth1 metric 100" in res.findings[0].remediation


def test_reject_in_the_legacy_view_counts_too(tmp_path: Path) -> None:
    import shutil

    from tests.rules.bundles import write_manifest

    bundles = []
    for name in ("master", "node1"):
        shutil.copytree(FIXTURES / "healthy" / name, tmp_path / name)
        bundles.append(str(tmp_path / name))
    (tmp_path / "master" / "firewall" / "iptables-legacy-save").write_text(
        "# Generated by iptables-save v1.8.7 on Thu Nov 26 10:15:00 2026\n*filter\n:INPUT ACCEPT [0:0]\n"
        ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[0:0] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
        "[31:2604] -A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n"
    )
    write_manifest(tmp_path / "master")
    snap = load_snapshot(bundles)
    master = snap.host("master")
    assert master is not None
    assert len(master.iptables) == 2, master.iptables.keys()
    found = fired(snap, "NS201")
    assert len(found) == 1 and "(in the iptables-legacy view: the kernel applies every view)" in found[0].explanation
    assert found[0].evidence[-1].file == "firewall/iptables-legacy-save" and found[0].evidence[-1].line == 7
    assert found[0].remediation[0].startswith(f"{list(master.iptables)[1]} -I INPUT 2 ")


def test_vtep_on_a_vip(healthy: Snapshot) -> None:
    from ipaddress import IPv4Interface

    master = healthy.host("master")
    assert master is not None
    eth1 = master.interfaces["eth1"]
    vip = eth1.addresses[0].model_copy(
        update={"address": IPv4Interface("10.10.0.100/32"), "raw": "inet 10.10.0.100/32 scope global eth1"}
    )
    eth1.addresses.append(vip)
    assert fired(healthy, "NS301") == []  # a VIP that flannel does not use is fine
    _vtep(healthy, "master", "10.10.0.100")
    found = fired(healthy, "NS301")
    assert [f.severity for f in found] == [Severity.WARNING] and "VIP" in found[0].explanation
    assert any("-public-ip=10.10.0.11" in line for line in found[0].remediation)


def test_flannel_errors_with_mixed_timestamps(healthy: Snapshot) -> None:
    from datetime import datetime

    master = healthy.host("master")
    assert master is not None
    template = master.flannel.events[0]
    for i, ts in enumerate((datetime(2026, 11, 26, 9, 0, tzinfo=UTC), datetime(2026, 11, 26, 9, 5), None)):
        master.flannel.events.append(template.model_copy(update={
            "level": "E", "kind": "error", "timestamp": ts,
            "message": f"Couldn't fetch network config: client: etcd cluster is unavailable ({i})",
        }))
    found = fired(healthy, "NS307")
    assert len(found) == 1 and "3 etcd-unreachable error lines" in found[0].explanation
    assert "2026-11-26T09:00:00+00:00 and 2026-11-26T09:05:00" in found[0].explanation


def _healthy_copy(tmp_path: Path) -> list[str]:
    import shutil

    out = []
    for name in ("master", "node1"):
        shutil.copytree(FIXTURES / "healthy" / name, tmp_path / name)
        out.append(str(tmp_path / name))
    return out


def test_rpm_prefix_mismatch_and_config_drift(tmp_path: Path) -> None:
    from tests.rules.bundles import write_manifest

    bundles = _healthy_copy(tmp_path)
    fl = tmp_path / "master" / "flannel"
    (fl / "etc-default-flanneld").unlink()
    (fl / "etc-sysconfig-flanneld").write_text(
        '# Flanneld configuration options\nFLANNEL_ETCD_ENDPOINTS="http://10.10.0.11:2379"\n'
        'FLANNEL_ETCD_PREFIX="/atomic.io/network"\nFLANNEL_OPTIONS="-iface=eth1"\n'
    )
    (fl / "systemctl-cat").write_text(
        "# /usr/lib/systemd/system/flanneld.service\n[Service]\nType=notify\n"
        "EnvironmentFile=/etc/sysconfig/flanneld\nEnvironmentFile=-/etc/sysconfig/docker-network\n"
        "ExecStart=/usr/bin/flanneld-start $FLANNEL_OPTIONS\n"
    )
    with (fl / "journal").open("a") as j:
        j.write("2026-11-26T09:58:01+0000 master flanneld-start[912]: E1126 09:58:01.118321     912 main.go:382] "
                "Couldn't fetch network config: 100: Key not found (/atomic.io) [238]\n")
    write_manifest(tmp_path / "master")
    found = fired(load_snapshot(bundles), "NS308")
    assert len(found) == 1 and found[0].severity == Severity.ERROR
    text = found[0].explanation
    assert "/atomic.io/network" in text  # the RPM prefix the files use
    assert "not restarted" in text  # the running process still has the old --etcd-prefix


def test_wrong_iface_predicted_before_flannel_runs(tmp_path: Path) -> None:
    """No device and no journal yet: the configuration (no --iface on a multi-homed host) is enough."""
    from tests.rules.bundles import write_manifest

    bundles = _healthy_copy(tmp_path)
    master = tmp_path / "master"
    for rel in ("flannel/journal", "flannel/subnet.env", "flannel/cmdline"):
        (master / rel).unlink()
    (master / "flannel" / "etc-default-flanneld").write_text(
        'FLANNEL_OPTS="--etcd-endpoints=http://10.10.0.11:2379 --ip-masq=true"\n'
    )
    for rel in ("links/ip-d-address", "links/ip-d-link"):
        text = (master / rel).read_text()
        start = text.index("4: flannel.1:")
        (master / rel).write_text(text[:start] + text[text.index("5: docker0:"):])
    write_manifest(master)
    found = fired(load_snapshot(bundles), "NS301")
    assert len(found) == 1 and "would use" in found[0].explanation
    assert "192.168.122.10 on eth0" in found[0].explanation and "-iface=eth1" in "\n".join(found[0].remediation)


def test_auto_selected_node_is_blamed_not_the_pinned_one(tmp_path: Path) -> None:
    """master auto-selects its default-route NIC (mgmt network), node1 pins --iface=eth1: only master is
    reported, and as a warning because node1 shares the mgmt network too (asymmetric, fragile)."""
    from tests.rules.test_rule_cases import run_case

    res = run_case("NS301", "fire", tmp_path)
    found = [(f.hosts, f.severity) for f in res.findings if f.rule == "NS301"]
    assert found == [(["master"], Severity.WARNING)]
    assert "asymmetric" in res.findings[0].explanation


@pytest.mark.parametrize(("fixture", "expected", "evidence_file"), [
    ("incident-a/master", "172.18.0.0/16", "links/ip-d-address"),  # old flannel: flannel.1 holds lease.0/16
    ("healthy/master", "10.244.0.0/16", "links/ip-d-link"),  # /32 on flannel.1: lease + peer routes, widened
])
def test_pod_network_inferred_without_subnet_env(tmp_path: Path, fixture: str, expected: str,
                                                 evidence_file: str) -> None:
    import shutil

    from netsnap.combine.overlay import overlay_facts
    from tests.rules.bundles import write_manifest

    bundle = tmp_path / "b"
    shutil.copytree(FIXTURES / fixture, bundle)
    for rel in ("flannel/subnet.env", "flannel/net-conf.json"):
        (bundle / rel).unlink(missing_ok=True)
    write_manifest(bundle)
    facts = overlay_facts(load_snapshot([str(bundle)]).hosts[0])
    assert str(facts.network) == expected and facts.network_inferred
    assert facts.evidence["network"].file == evidence_file


def test_flannel_errors_without_a_year_show_the_time_as_logged(healthy: Snapshot) -> None:
    """Syslog-style journal lines carry no year: the span is the time text as logged, never `? and ?`."""
    from netsnap.parsers.flannel_journal import parse

    line = ("{} node1 flanneld[812]: E1126 {}.123456     812 main.go:231] Couldn't fetch network config: "
            "client: etcd cluster is unavailable or misconfigured\n")
    text = line.format("Nov 26 09:00:01", "09:00:01") + line.format("Nov 26 09:05:01", "09:05:01")
    master = healthy.host("master")
    assert master is not None
    master.flannel.events.extend(parse(text, "flannel/journal").items)
    found = fired(healthy, "NS307")
    assert len(found) == 1 and "?" not in found[0].explanation
    assert "2 etcd-unreachable error lines between Nov 26 09:00:01 and Nov 26 09:05:01 (as logged, no year)" \
        in found[0].explanation
