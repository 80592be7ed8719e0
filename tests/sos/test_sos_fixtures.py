"""The sosreports of fixtures/sos-4.0 (real sos 4.0 captures of the "reject" lab scenario), the same captures
renamed as sos 4.12.0 names them (fixtures/sos-4.12), and the collector's bundles of the same hosts
(fixtures/sos-4.0/collector) describe the same hosts: same tables, same trace verdicts (the kernel's, as
tests/sos/test_lab_sos.py checks in the lab), same causes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netsnap.bundle.inventory import inventory
from netsnap.bundle.reader import open_bundle
from netsnap.engine.findings import Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.model import Snapshot
from netsnap.model.host import Host
from netsnap.secgroups import SecurityGroups
from netsnap.trace.engine import TraceEngine
from tests.sos.scenarios import BY_NAME

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SOS40 = sorted(str(p) for p in (FIXTURES / "sos-4.0").glob("sosreport-*"))
SOS412 = sorted(str(p) for p in (FIXTURES / "sos-4.12").glob("sosreport-*"))
COLLECTOR = sorted(str(p) for p in (FIXTURES / "sos-4.0" / "collector").glob("*.tar.gz"))
KINDS = {"sos-4.0": SOS40, "sos-4.12": SOS412, "collector": COLLECTOR}


@pytest.fixture(scope="module")
def snapshots() -> dict[str, Snapshot]:
    assert all(len(paths) == 2 for paths in KINDS.values()), KINDS
    return {kind: load_snapshot(paths) for kind, paths in KINDS.items()}


def _tables(host: Host) -> dict[str, Any]:
    """What the analysis reads, without provenance (the file names differ between the releases)."""
    rs = host.filter_ruleset
    return {
        "routes": sorted((str(r.dst), str(r.gateway), r.dev, r.table) for r in host.routes),
        "interfaces": {n: (i.mtu, i.state, str(i.vxlan.dstport) if i.vxlan else None, [str(a.address) for a in
                                                                                       i.addresses])
                       for n, i in host.interfaces.items()},
        "neighbours": sorted(str(n.model_dump(exclude={"src", "raw"})) for n in host.neighbours),
        "fdb": sorted(str(f.model_dump(exclude={"src", "raw"})) for f in host.fdb),
        "rules": rs.rule_count() if rs is not None else None,
        "policy": sorted(str(p.model_dump(exclude={"src", "raw"})) for p in host.policy_rules),
        "sysctls": {k: s.value for k, s in host.sysctls.items()},
        "offloads": sorted((f.dev, f.name, f.enabled) for f in host.ethtool),
        "vxlan_port": host.vxlan_module.port,
    }


def test_renamed_names_read_as_the_same_host(snapshots: dict[str, Snapshot]) -> None:
    for h40 in snapshots["sos-4.0"].hosts:
        h412 = snapshots["sos-4.12"].host(h40.name)
        assert h412 is not None
        assert _tables(h412) == _tables(h40)
        assert h40.routes_origin == h412.routes_origin == "ip_route"
        assert h412.sources["iptables_list"].file == "sos_commands/firewall_tables/iptables_-vnxL"
        assert h412.sources["ip_rule"].file == "sos_commands/networking/ip_-4_rule_list"
        assert h40.sources["ip_rule"].file == "sos_commands/networking/ip_-4_rule"


@pytest.mark.parametrize("kind", ["sos-4.0", "sos-4.12"])
def test_inventory_of_each_release(kind: str) -> None:
    for path in KINDS[kind]:
        inv = inventory(open_bundle(path))
        found = {r["id"] for r in inv["sources"] if r["state"] in ("ok", "truncated")}
        expected = {"hostname", "uname", "os_release", "date", "uptime", "proc_net_route", "ip_route", "ip_rule",
                    "ip_addr", "ip_link_stats", "ip_neigh", "bridge_fdb", "iptables_list", "sysctl", "lsmod",
                    "ethtool", "vxlan_udp_port", "modprobe_vxlan"}
        assert found == (expected | {"route_n"} if kind == "sos-4.0" else expected), found
        assert inv["collector_version"] == ("sos 4.0" if kind == "sos-4.0" else "sos 4.12.0")
        (ns,) = inv["namespaces"]
        assert ns["name"] == f"c-{inv['host']}"
        if kind == "sos-4.12":
            assert all(f.startswith(f"sos_commands/networking/namespaces/{ns['name']}/") for f in ns["files"])
        else:
            assert all(f.startswith(f"sos_commands/networking/ip_netns_exec_{ns['name']}_") for f in ns["files"])


def test_lsmod_that_failed_is_failed_not_an_empty_module_list(snapshots: dict[str, Snapshot]) -> None:
    # this kernel has no /proc/modules: lsmod exits 1 and sos keeps its error message as the output
    host = snapshots["sos-4.0"].hosts[0]
    assert host.sources["lsmod"].state.value == "failed" and host.modules == {}
    assert not host.has("lsmod")


def test_traces_give_the_kernels_verdicts_on_every_bundle(snapshots: dict[str, Snapshot]) -> None:
    scenario = BY_NAME["reject"]
    for kind, snap in snapshots.items():
        engine = TraceEngine(snap, SecurityGroups(default="open"))
        got = tuple(engine.trace(p.src, p.dst, p.proto, p.port, p.size).verdict == "reachable"
                    for p in scenario.probes)
        assert got == scenario.kernel, kind


def test_the_same_cause_on_every_bundle(snapshots: dict[str, Snapshot]) -> None:
    for kind, snap in snapshots.items():
        result = run_rules(snap)
        serious = {(f.cause, h) for f in result.findings if f.severity in (Severity.ERROR, Severity.WARNING)
                   for h in f.hosts}
        assert serious == {("iptables-reject", "node1")}, (kind, serious)
        evidence = {e.file for f in result.findings if f.cause == "iptables-reject" for e in f.evidence}
        want = {"sos-4.0": "sos_commands/networking/iptables_-vnxL",
                "sos-4.12": "sos_commands/firewall_tables/iptables_-vnxL", "collector": "firewall/iptables-save"}
        assert want[kind] in evidence, (kind, evidence)
