"""Real sosreports against the kernel: the namespace-lab scenarios (tests/sos/scenarios.py) captured
by the real `sos report` and by netsnap's collector at the same moment, on the same hosts
(tests/lab/sos.py), then compared.

Per scenario (built once; the kernel is asked first, the lab torn down before the checks):
- every probe's trace through the sosreports gives the kernel's verdict, exactly as through the
  collector's bundles;
- `netsnap analyze` finds the same causes on both, and each rule is evaluated (or not) on the same hosts,
  except where sos truly cannot provide a fact (SOS_CANNOT, with the reason);
- `inventory` of each sosreport finds every source whose sos name (for that sos release) the archive
  holds; the pod's namespace is listed apart and nothing of it reaches the host's tables;
- the vxlan module's port and the modprobe.d option that states it are read from both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.bundle.members import Members
from netsnap.bundle.model import Bundle
from netsnap.bundle.reader import open_bundle
from netsnap.bundle.sosreport import matches
from netsnap.cli.app import app
from netsnap.combine.coverage import present
from netsnap.engine.discovery import all_rules
from netsnap.engine.findings import AnalysisResult, Severity
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from netsnap.model import Snapshot
from netsnap.model.host import Host
from netsnap.secgroups import SecurityGroups, attach
from netsnap.sources import SOS_ONLY_SOURCES, SOURCES
from netsnap.trace.engine import TraceEngine
from tests.lab.netns import NetnsLab
from tests.lab.netns import skip_reason as netns_skip
from tests.lab.sos import Capture, capture, sos_version
from tests.lab.sos import skip_reason as sos_skip
from tests.sos.scenarios import SCENARIOS, Scenario

REASON = netns_skip() or sos_skip()
pytestmark = [pytest.mark.netns, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

SERIOUS = (Severity.ERROR, Severity.WARNING)
USABLE = ("ok", "truncated")

# Facts the collector's bundle has and the real sosreport of the same lab host cannot have, and why.
SOS_CANNOT: dict[str, str] = {
    "flannel_lease": "only sos's kubernetes plugin copies /run/flannel, and Debian's sos 4.0 has no Debian class of "
                     "it (added in 4.7.0): subnet.env is not in the sosreport",
    "ipsets": "no sos plugin runs ipset; the collector's `ipset save` printed nothing (no set), an answer",
    "firewall_ipv6": "sos lists the IPv6 tables (`ip6tables -vnxL`), which netsnap does not read; the collector's "
                     "ip6tables-save printed nothing (no table loaded), an answer",
}


@dataclass
class LabRun:
    scenario: Scenario
    kernel: tuple[bool, ...]
    captures: dict[str, Capture]
    collector: Snapshot
    sos: Snapshot
    collector_result: AnalysisResult
    sos_result: AnalysisResult
    collector_groups: SecurityGroups
    sos_groups: SecurityGroups
    sos_bundles: dict[str, Bundle]


def _groups(scenario: Scenario, snap: Snapshot, directory: Path) -> SecurityGroups:
    if scenario.groups is None:
        return SecurityGroups(default="open")  # the lab's fabric filters nothing
    groups: SecurityGroups | None = None
    for key, path in scenario.groups(directory).items():
        groups = attach(snap, f"{key}={path}", groups)
    assert groups is not None
    return groups


@pytest.fixture(scope="module", params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def lab_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    scenario: Scenario = request.param
    out = tmp_path_factory.mktemp(scenario.name)
    with NetnsLab() as lab:
        fl = scenario.setup(lab)
        kernel = tuple(p.ask(fl) for p in scenario.probes)
        captures = capture(fl, out / "captures")
    assert kernel == scenario.kernel, f"the lab does not behave as {scenario.name} says: {kernel}"
    collector = load_snapshot([c.collector for c in captures.values()])
    sos = load_snapshot([c.sosreport for c in captures.values()])
    results = []
    for snap in (collector, sos):
        result = run_rules(snap)
        crashed = [n.reason for n in result.not_evaluated if n.reason.startswith("rule failed")]
        assert not crashed, crashed
        results.append(result)
    (out / "sg").mkdir()
    return LabRun(scenario, kernel, captures, collector, sos, results[0], results[1],
                  _groups(scenario, collector, out / "sg"), _groups(scenario, sos, out / "sg"),
                  {name: open_bundle(c.sosreport) for name, c in captures.items()})


# --- traces ------------------------------------------------------------------------------------------


def test_traces_through_sosreports_agree_with_the_kernel(lab_run: LabRun) -> None:
    engines = {"collector": TraceEngine(lab_run.collector, lab_run.collector_groups),
               "sosreport": TraceEngine(lab_run.sos, lab_run.sos_groups)}
    wrong = []
    for probe, ok in zip(lab_run.scenario.probes, lab_run.kernel, strict=True):
        want = "reachable" if ok else "unreachable"
        for kind, engine in engines.items():
            r = engine.trace(probe.src, probe.dst, probe.proto, probe.port, probe.size)
            if r.verdict != want:
                wrong.append(f"{kind}: {probe.label}: kernel {want}, netsnap {r.verdict} {r.disposition}: {r.reason}")
    assert not wrong, "\n".join(wrong)


def test_netsnap_trace_command_on_the_sosreports(lab_run: LabRun, tmp_path: Path) -> None:
    probe, ok = lab_run.scenario.probes[0], lab_run.kernel[0]
    args = ["trace", *(c.sosreport for c in lab_run.captures.values()), "--from", probe.src, "--to", probe.dst,
            "--proto", probe.proto, "--format", "json"]
    if probe.port:
        args += ["--port", str(probe.port)]
    if probe.size:
        args += ["--size", str(probe.size)]
    if lab_run.scenario.groups is None:
        args.append("--no-security-groups")
    else:
        for key, path in lab_run.scenario.groups(tmp_path).items():
            args += ["--security-group", f"{key}={path}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == (0 if ok else 1), result.output
    assert json.loads(result.stdout)["verdict"] == ("reachable" if ok else "unreachable")


# --- analysis ----------------------------------------------------------------------------------------


def _causes(result: AnalysisResult) -> set[tuple[str, str, tuple[str, ...], str]]:
    return {(f.rule, f.cause, tuple(sorted(f.hosts)), f.severity.value) for f in result.findings}


def _facts(host: Host) -> set[str]:
    return set(present(host))


def _fact_gaps(lab_run: LabRun) -> dict[str, set[str]]:
    """Per host: facts present in exactly one of the two bundles (asserted to be the known ones)."""
    gaps: dict[str, set[str]] = {}
    for name in lab_run.captures:
        c, s = lab_run.collector.host(name), lab_run.sos.host(name)
        assert c is not None and s is not None
        only_c, only_s = _facts(c) - _facts(s), _facts(s) - _facts(c)
        assert only_c <= set(SOS_CANNOT), (name, only_c - set(SOS_CANNOT))
        assert not only_s, (name, only_s)  # the collector captures everything sos does
        gaps[name] = only_c | only_s
    return gaps


def test_facts_differ_only_where_sos_cannot_provide_them(lab_run: LabRun) -> None:
    gaps = _fact_gaps(lab_run)
    assert all(g <= set(SOS_CANNOT) for g in gaps.values())


def test_analyze_finds_the_same_causes(lab_run: LabRun) -> None:
    collector, sos = _causes(lab_run.collector_result), _causes(lab_run.sos_result)
    named = {(f.cause, h) for f in lab_run.collector_result.findings if f.severity in SERIOUS for h in f.hosts}
    assert lab_run.scenario.causes <= named, lab_run.scenario.causes - named
    diff = {"only via collector": sorted(collector - sos), "only via sosreport": sorted(sos - collector)}
    assert sos == collector, diff


def _status(result: AnalysisResult, hosts: list[str]) -> dict[tuple[str, str], str]:
    skipped = {(n.rule, h) for n in result.not_evaluated for h in n.hosts}
    return {(r.rule, h): "not evaluated" if (r.rule, h) in skipped else "evaluated"
            for r in result.rule_runs for h in hosts}


def _satisfied(rule: str, facts: set[str]) -> tuple[bool, list[str]]:
    """Whether `facts` meet the rule's requirements (facts, see RuleMeta), and which are missing."""
    meta = next(r.meta for r in all_rules() if r.meta.id == rule)
    missing = [name for name in meta.requires if name not in facts]
    missing += [" or ".join(group) for group in meta.requires_any if not any(n in facts for n in group)]
    return not missing, missing


def _status_differences(lab_run: LabRun) -> list[tuple[str, str, str]]:
    """(rule, host, why) for each rule evaluated on one bundle of a host and not on the other although the
    facts it needs are held by both or by neither (a difference the known fact gaps do not explain)."""
    hosts = sorted(lab_run.captures)
    collector, sos = _status(lab_run.collector_result, hosts), _status(lab_run.sos_result, hosts)
    _fact_gaps(lab_run)
    out = []
    for key in sorted(set(collector) | set(sos)):
        rule, host = key
        if collector.get(key) == sos.get(key):
            continue
        c, s = lab_run.collector.host(host), lab_run.sos.host(host)
        assert c is not None and s is not None
        c_ok, _ = _satisfied(rule, _facts(c))
        s_ok, s_missing = _satisfied(rule, _facts(s))
        if c_ok != s_ok:
            continue  # the facts differ, and only in the known ways (_fact_gaps)
        why = ("the sosreport holds every fact the rule needs" if s_ok
               else f"neither bundle meets {s_missing}")
        out.append((rule, host, f"{rule} on {host}: collector {collector.get(key)}, sosreport {sos.get(key)} ({why})"))
    return out


def test_every_rule_is_evaluated_on_the_same_hosts(lab_run: LabRun) -> None:
    """A rule may be evaluated on one bundle and not on the other only when the facts it needs are held by
    one of them alone (SOS_CANNOT)."""
    differences = _status_differences(lab_run)
    assert not differences, "\n".join(why for _, _, why in differences)


# --- inventory ---------------------------------------------------------------------------------------


def _members(path: str) -> Members:
    from netsnap.bundle.archive import read_archive
    from netsnap.bundle.model import Limits

    members = read_archive(path, Limits())
    members.strip_top()
    return members


def test_inventory_finds_every_source_sos_captured(lab_run: LabRun) -> None:
    version = sos_version()
    for name, cap in lab_run.captures.items():
        bundle = lab_run.sos_bundles[name]
        assert bundle.collector_version == f"sos {version}"
        members = _members(cap.sosreport)
        for source in (*SOURCES, *SOS_ONLY_SOURCES):
            written = [n for n in source.sos_names if n.written_by(version)]
            held = [rel for n in written for _, rel in matches(members, n) if members.data[rel].strip()]
            if held:
                assert source.id in bundle.files, (name, source.id, held, bundle.missing.get(source.id))
        # and what sos 4.0 on Debian writes for the lab (docs/sosreport.md says why the others are absent)
        found = {sid for sid, sf in bundle.files.items()}
        assert {"hostname", "uname", "os_release", "date", "uptime", "route_n", "proc_net_route", "ip_route",
                "ip_rule", "ip_addr", "ip_link_stats", "ip_neigh", "bridge_fdb", "iptables_list", "sysctl", "dmesg",
                "ethtool", "vxlan_udp_port", "modprobe_vxlan"} <= found, found


def test_the_pod_namespace_is_listed_apart_and_never_merged(lab_run: LabRun) -> None:
    for index, name in enumerate(sorted(lab_run.captures, key=lambda n: n != "master")):
        bundle = lab_run.sos_bundles[name]
        assert list(bundle.namespaces) == [f"c-{name}"], bundle.namespaces
        files = bundle.namespaces[f"c-{name}"]
        assert any(f.endswith("_ip_route_show_table_all") for f in files), files
        host = lab_run.sos.host(name)
        assert host is not None
        pod_ip = f"10.244.{index}.5"
        assert not any(str(a.address.ip) == pod_ip for a in host.addresses())  # the pod's eth0 stays the pod's
        assert not any(st.file in files for st in host.sources.values())
        assert "eth0" in host.interfaces and "vethc" in host.interfaces
        inv = CliRunner().invoke(app, ["inventory", lab_run.captures[name].sosreport, "--format", "json"])
        (row,) = json.loads(inv.stdout)["bundles"][0]["namespaces"]
        assert row == {"name": f"c-{name}", "files": files}


def test_ethtool_of_every_device_with_its_own_file(lab_run: LabRun) -> None:
    host = lab_run.sos.host("master")
    assert host is not None
    devices = {f.dev for f in host.ethtool}
    assert {"eth0", "eth1", "flannel.1", "cni0", "vethc", "lo"} <= devices, devices
    for feature in host.ethtool[:50]:
        assert feature.src.file == f"sos_commands/networking/ethtool_-k_{feature.dev}", feature.src


def test_vxlan_port_and_its_origin_from_both_bundles(lab_run: LabRun) -> None:
    for snap, where in ((lab_run.collector, "/etc/modprobe.d/vxlan.conf (kernel/modprobe-d:"),
                        (lab_run.sos, "etc/modprobe.d/vxlan.conf:2")):
        for host in snap.hosts:
            assert host.vxlan_module.port == 8472
            origin = host.vxlan_module.port_origin()
            assert origin is not None and "`options vxlan udp_port=8472` in " + where in origin, origin


def test_sos_ran_the_documented_command_line(lab_run: LabRun) -> None:
    from netsnap.bundle.sos_doc import command_line

    want = command_line(sos_version(), debian=Path("/etc/debian_version").exists()).split(" -o ")[1]
    for bundle in lab_run.sos_bundles.values():
        cmdline = str(bundle.manifest.get("cmdline", ""))
        assert f" -o {want}" in f" {cmdline}", cmdline
        assert "--upload" not in cmdline


# --- what sos skips on its own ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    """The healthy lab's master captured by the documented command line alone (no --allow-system-changes)."""
    from tests.sos.scenarios import BY_NAME

    with NetnsLab() as lab:
        fl = BY_NAME["healthy"].setup(lab)
        caps = capture(fl, tmp_path_factory.mktemp("unchanged"), allow_changes=False, names=["master"])
    return caps["master"]


def test_what_sos_skipped_is_not_collected_with_its_reason(unchanged: Capture) -> None:
    """On this kernel lsmod lists nothing, so sos skips every iptables command: the firewall is "not collected"
    (sos.log's reason shown), and the rules that need it are not evaluated, never passed."""
    bundle = open_bundle(unchanged.sosreport)
    sf = bundle.missing["iptables_list"]
    assert sf.state.value == "not collected"
    assert sf.notes and sf.notes[0].startswith("sos skipped it: required kmods missing: "), sf.notes
    text = CliRunner().invoke(app, ["inventory", unchanged.sosreport], env={"COLUMNS": "250"}).stdout
    assert any(line.startswith("iptables_list") and "sos skipped it: required kmods missing" in line
               for line in text.splitlines()), text
    result = run_rules(load_snapshot([unchanged.sosreport]))
    needs_firewall = {r.meta.id for r in all_rules() if "firewall" in r.meta.requires}
    assert needs_firewall, "no rule needs the firewall fact alone"
    skipped = {n.rule for n in result.not_evaluated if "master" in n.hosts}
    assert needs_firewall <= skipped, needs_firewall - skipped
