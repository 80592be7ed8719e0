"""The sosreports of fixtures/sos-4.0 and fixtures/sos-4.12 (real sos 4.0 and sos 4.12.0 captures of the
"reject" lab scenario, two builds of it) and the collector's bundles of the same hosts (each fixture's
collector/) describe the same hosts: same tables (but what a lab build draws at random: MACs, hence link-local
addresses and their fdb entries, and counters), same causes, and the kernel's trace verdicts (as
tests/sos/test_lab_sos.py checks in the lab) — except where sos 4.12.0 did not list master's iptables (its
firewall_tables plugin runs `iptables -vnxL` only when `nft list ruleset` shows an `ip filter` table; master has
none): there the verdict is unknown, never reachable."""

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
COLLECTOR412 = sorted(str(p) for p in (FIXTURES / "sos-4.12" / "collector").glob("*.tar.gz"))
KINDS = {"sos-4.0": SOS40, "sos-4.12": SOS412, "collector": COLLECTOR, "collector-4.12": COLLECTOR412}
# hosts whose iptables sos 4.12.0 did not list (no `ip filter` table in their nft ruleset)
NO_IPTABLES_412 = {"master"}


@pytest.fixture(scope="module")
def snapshots() -> dict[str, Snapshot]:
    assert all(len(paths) == 2 for paths in KINDS.values()), KINDS
    return {kind: load_snapshot(paths) for kind, paths in KINDS.items()}


def _tables(host: Host) -> dict[str, Any]:
    """What the analysis reads, without provenance (the file names differ between the releases) and without
    what each lab build draws at random (link-local addresses, the kernel's MACs and their fdb entries) or
    counts (the `used` timers of neighbours and fdb entries)."""
    rs = host.filter_ruleset
    return {
        "routes": sorted((str(r.dst), str(r.gateway), r.dev, r.table) for r in host.routes
                         if not str(r.dst).startswith("fe80:")),
        "interfaces": {n: (i.mtu, i.state, str(i.vxlan.dstport) if i.vxlan else None,
                           [str(a.address) for a in i.addresses if not str(a.address).startswith("fe80:")])
                       for n, i in host.interfaces.items()},
        "neighbours": sorted(str(n.model_dump(exclude={"src", "raw", "extra"})) for n in host.neighbours),
        "fdb": sorted(str(f.model_dump(exclude={"src", "raw", "extra"})) for f in host.fdb if f.dev == "flannel.1"),
        "rules": rs.rule_count() if rs is not None else None,
        "policy": sorted(str(p.model_dump(exclude={"src", "raw"})) for p in host.policy_rules),
        "sysctls": {k: s.value for k, s in host.sysctls.items()},
        "offloads": sorted((f.dev, f.name, f.enabled) for f in host.ethtool),
        "vxlan_port": host.vxlan_module.port,
    }


def test_both_releases_read_as_the_same_host(snapshots: dict[str, Snapshot]) -> None:
    for h40 in snapshots["sos-4.0"].hosts:
        h412 = snapshots["sos-4.12"].host(h40.name)
        assert h412 is not None
        t40, t412 = _tables(h40), _tables(h412)
        if h40.name in NO_IPTABLES_412:
            # sos 4.0 listed an empty filter table; 4.12.0 did not run iptables: not collected, not "no rules"
            assert t40.pop("rules") == 0 and t412.pop("rules") is None
            assert h412.sources["iptables_list"].state.value == "not collected"
        else:
            assert h412.sources["iptables_list"].file == "sos_commands/firewall_tables/iptables_-vnxL"
        assert t412 == t40
        assert h40.routes_origin == h412.routes_origin == "ip_route"
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
        if kind == "sos-4.0":
            expected |= {"route_n"}
        else:  # 4.12.0 on Debian: kubernetes copies /run/flannel, ufw runs, firewall_tables runs nft
            expected |= {"subnet_env", "ufw_status", "ufw_default", "nft_text"}
            if inv["host"] in NO_IPTABLES_412:  # its nft ruleset is empty (exit 0): sos did not run iptables
                expected -= {"iptables_list", "nft_text"}
                assert {r["id"]: r["state"] for r in inv["sources"]}["nft_text"] == "empty"
        assert found == expected, found
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
        got = tuple(engine.trace(p.src, p.dst, p.proto, p.port, p.size).verdict for p in scenario.probes)
        if kind == "sos-4.12":
            # every probe the kernel passes crosses master's filter, which sos 4.12.0 did not list
            assert all(p.src in NO_IPTABLES_412 or str(p.dst) == "192.168.0.11"
                       for p, ok in zip(scenario.probes, scenario.kernel, strict=True) if ok)
            want = tuple("unknown" if ok else "unreachable" for ok in scenario.kernel)
        else:
            want = tuple("reachable" if ok else "unreachable" for ok in scenario.kernel)
        assert got == want, kind


def test_the_same_cause_on_every_bundle(snapshots: dict[str, Snapshot]) -> None:
    for kind, snap in snapshots.items():
        result = run_rules(snap)
        serious = {(f.cause, h) for f in result.findings if f.severity in (Severity.ERROR, Severity.WARNING)
                   for h in f.hosts}
        assert serious == {("iptables-reject", "node1")}, (kind, serious)
        evidence = {e.file for f in result.findings if f.cause == "iptables-reject" for e in f.evidence}
        want = {"sos-4.0": "sos_commands/networking/iptables_-vnxL",
                "sos-4.12": "sos_commands/firewall_tables/iptables_-vnxL", "collector": "firewall/iptables-save",
                "collector-4.12": "firewall/iptables-save"}
        assert want[kind] in evidence, (kind, evidence)
