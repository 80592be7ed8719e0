"""A sosreport's per-table list files (`iptables -t nat -nvL`...) join the host's list-format Ruleset.

The fixture is a kube node whose filter list file rejects tcp 9999 and whose nat list file holds
kube-proxy's KUBE-SERVICES chain, DNATing the `kubernetes` service 10.96.0.1:443 to 10.0.0.1:6443.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.bundle.inventory import inventory
from netsnap.bundle.reader import open_bundle
from netsnap.cli.app import app
from netsnap.load import build_host, load_bundle
from netsnap.model.base import Provenance
from netsnap.model.host import Snapshot, SourceState
from netsnap.secgroups import SecurityGroups
from netsnap.sources import SOS_ONLY_SOURCES, SOURCES
from netsnap.trace.engine import TraceEngine
from tests.bundle.tarbuild import collector_files, tar_dir, write_dir, write_tar

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "sos-list-tables" / "sosreport-k8snode-2026-11-26-abcdef"
FILTER_FILE = "sos_commands/firewall_tables/iptables_-vnxL"
NAT_FILE = "sos_commands/firewall_tables/iptables_-t_nat_-nvL"
SAVE_TEXT = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
LIST_HEAD = " pkts bytes target     prot opt in     out     source               destination\n"

runner = CliRunner()


def _copy(tmp_path: Path, drop: tuple[str, ...] = (), add: dict[str, bytes | str] | None = None) -> Path:
    """The fixture copied under tmp_path, without the members in `drop`, with `add` written in."""
    root = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, root)
    for rel in drop:
        (root / rel).unlink()
    return write_dir(root, add or {})


@pytest.mark.parametrize("packed", [False, True])
def test_nat_table_joins_the_list_ruleset_with_its_own_provenance(tmp_path: Path, packed: bool) -> None:
    path = tar_dir(tmp_path / f"{FIXTURE.name}.tar.xz", FIXTURE, "w:xz") if packed else FIXTURE
    host = load_bundle(path)
    assert host.bundle.kind == "sosreport" and host.bundle.problems == []
    rs = host.iptables["list"]
    assert set(rs.tables) == {"filter", "nat"}
    assert rs.file == FILTER_FILE
    reject = rs.tables["filter"].chains["INPUT"].rules[0]
    assert reject.target is not None and reject.target.name == "REJECT"
    assert reject.src == Provenance(FILTER_FILE, 3)
    nat = rs.tables["nat"]
    assert nat.src.file == NAT_FILE
    assert nat.chains["KUBE-SERVICES"].src == Provenance(NAT_FILE, 15)
    dnat = nat.chains["KUBE-SEP-APISERVER1"].rules[0]
    assert dnat.target is not None and dnat.target.name == "DNAT"
    assert dnat.target.options["to-destination"] == "10.0.0.1:6443"
    assert dnat.src == Provenance(NAT_FILE, 25)
    assert dnat.packets == 5
    svc = nat.chains["PREROUTING"].rules[0]
    assert (svc.packets, svc.src) == (12000, Provenance(NAT_FILE, 3))  # -nvL's abbreviated counters
    # each file has its own status: run data from sos's manifest, rules counted per file
    flt, st = host.sources["iptables_list"], host.sources["iptables_list_nat"]
    assert (flt.file, flt.parsed, flt.expected) == (FILTER_FILE, 1, 1)
    assert (st.state, st.file, st.command, st.exit_code) == (SourceState.OK, NAT_FILE, "iptables -t nat -nvL", 0)
    assert (st.parsed, st.expected, st.unparsed) == (5, 5, [])
    assert "iptables_list_mangle" not in host.sources  # sos wrote no mangle file: no status, no error


def test_inventory_shows_the_nat_file_as_read() -> None:
    result = runner.invoke(app, ["inventory", str(FIXTURE), "--format", "json"])
    assert result.exit_code == 0, result.output
    (sos,) = json.loads(result.stdout)["bundles"]
    rows = {r["id"]: r for r in sos["sources"]}
    nat = rows["iptables_list_nat"]
    assert (nat["state"], nat["file"], nat["command"], nat["group"]) == ("ok", NAT_FILE, "iptables -t nat -nvL",
                                                                         "firewall")
    assert nat["title"] == "iptables -t nat -nvL (list format, sosreports)"
    assert rows["iptables_list"]["file"] == FILTER_FILE
    assert [r["id"] for r in sos["sources"]] == [s.id for s in SOURCES] + ["iptables_list_nat"]
    assert sos["found"] == 5  # hostname (sos_commands/host/hostname), ip_route, ip_addr, iptables_list, _nat
    text = runner.invoke(app, ["inventory", str(FIXTURE)], env={"COLUMNS": "250"})
    assert text.exit_code == 0, text.output
    assert NAT_FILE in text.stdout and "5 sources found" in text.stdout


def test_trace_applies_the_kube_proxy_dnat_from_the_nat_file() -> None:
    host = load_bundle(FIXTURE)
    engine = TraceEngine(Snapshot(hosts=[host]), SecurityGroups(default="open"))
    r = engine.trace("k8snode", "10.96.0.1", "tcp", 443)
    assert (r.verdict, r.disposition) == ("reachable", "delivered"), r.reason
    nat = next(s for s in r.hops if s.stage == "OUTPUT nat")
    assert nat.action == "nat" and "10.96.0.1:443 -> 10.0.0.1:6443" in nat.detail
    assert any((e.file, e.line) == (NAT_FILE, 25) for e in nat.consulted)
    deliver = next(s for s in r.hops if s.action == "deliver")
    assert "10.0.0.1 port 6443" in deliver.detail
    # the filter table of the other list file still decides: tcp 9999 is rejected on INPUT
    rejected = engine.trace("k8snode", "10.0.0.1", "tcp", 9999)
    assert (rejected.verdict, rejected.disposition) == ("unreachable", "denied-in")
    deny = next(s for s in rejected.hops if s.action == "deny")
    assert any((e.file, e.line) == (FILTER_FILE, 3) for e in deny.consulted)


def test_missing_nat_file_is_not_an_error(tmp_path: Path) -> None:
    manifest = json.loads((FIXTURE / "sos_reports/manifest.json").read_text())
    commands = manifest["components"]["report"]["plugins"]["firewall_tables"]["commands"]
    manifest["components"]["report"]["plugins"]["firewall_tables"]["commands"] = commands[:1]
    root = _copy(tmp_path, drop=(NAT_FILE,), add={"sos_reports/manifest.json": json.dumps(manifest)})
    bundle = open_bundle(root)
    host = build_host(bundle)
    assert bundle.problems == [] and host.bundle.problems == []
    assert set(host.iptables["list"].tables) == {"filter"}
    assert not any(sid.startswith("iptables_list_") for sid in host.sources)
    assert [r["id"] for r in inventory(bundle)["sources"]] == [s.id for s in SOURCES]


def test_unparsed_lines_of_each_file_count_and_show(tmp_path: Path) -> None:
    nat = (FIXTURE / NAT_FILE).read_text().replace("Chain INPUT", "garbage from a broken pipe\n\nChain INPUT", 1)
    flt = (FIXTURE / FILTER_FILE).read_text() + "stray filter text\n"
    root = _copy(tmp_path, add={NAT_FILE: nat, FILTER_FILE: flt})
    host = load_bundle(root)
    nat_st, flt_st = host.sources["iptables_list_nat"], host.sources["iptables_list"]
    assert [(u.line, u.text) for u in nat_st.unparsed] == [(5, "garbage from a broken pipe")]
    assert [(u.line, u.text) for u in flt_st.unparsed] == [(10, "stray filter text")]
    assert host.iptables["list"].tables["nat"].chains["KUBE-SERVICES"].src == Provenance(NAT_FILE, 17)
    result = runner.invoke(app, ["parse", str(root), "--unparsed"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"unparsed {NAT_FILE}:5: garbage from a broken pipe" in result.stdout
    assert f"unparsed {FILTER_FILE}:10: stray filter text" in result.stdout


def test_mangle_and_raw_without_a_main_list_file(tmp_path: Path) -> None:
    mangle = f"Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n{LIST_HEAD}" + (
        "    0     0 MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x4000\n")
    raw = f"Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n{LIST_HEAD}" + (
        "    0     0 CT         udp  --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:8472\n")
    root = _copy(tmp_path, drop=(FILTER_FILE, NAT_FILE), add={
        "sos_commands/networking/iptables_-t_mangle_-nvL": mangle,
        "sos_commands/networking/iptables_-t_raw_-nvL": raw,
    })
    host = load_bundle(root)
    rs = host.iptables["list"]
    assert set(rs.tables) == {"mangle", "raw"}
    assert rs.tables["mangle"].chains["PREROUTING"].rules[0].src == Provenance(
        "sos_commands/networking/iptables_-t_mangle_-nvL", 3)
    assert rs.tables["raw"].chains["PREROUTING"].rules[0].src == Provenance(
        "sos_commands/networking/iptables_-t_raw_-nvL", 3)
    assert host.sources["iptables_list"].state is SourceState.NOT_COLLECTED  # sos said it ran; no file
    assert host.sources["iptables_list_mangle"].parsed == host.sources["iptables_list_raw"].parsed == 1


def test_a_table_the_main_list_file_holds_is_kept_and_the_copy_noted(tmp_path: Path) -> None:
    flt = (FIXTURE / FILTER_FILE).read_text() + (
        f"\n# Table: nat\nChain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n{LIST_HEAD}")
    host = load_bundle(_copy(tmp_path, add={FILTER_FILE: flt}))
    nat = host.iptables["list"].tables["nat"]
    assert nat.src.file == FILTER_FILE and set(nat.chains) == {"OUTPUT"}
    notes = host.sources["iptables_list_nat"].notes
    assert f"table nat already read from {FILTER_FILE}; this file's copy is not used" in notes


def test_a_host_iptables_save_file_is_not_a_sos_name(tmp_path: Path) -> None:
    """No sos release writes iptables-save for the host (only `ip netns exec NS iptables-save`, see
    docs/sosreport.md): a file planted under that name is not read as the host's ruleset."""
    host = load_bundle(_copy(tmp_path, add={"sos_commands/networking/iptables-save": SAVE_TEXT}))
    assert "iptables" not in host.iptables
    assert host.filter_ruleset is host.iptables["list"]
    assert set(host.iptables["list"].tables) == {"filter", "nat"}


def test_collector_bundle_inventory_and_sources_are_unchanged(tmp_path: Path) -> None:
    tgz = write_tar(tmp_path / "node1.tgz", collector_files("netsnap-node1-20261126T100000Z"))
    bundle = open_bundle(tgz)
    ids = [r["id"] for r in inventory(bundle)["sources"]]
    assert ids == [s.id for s in SOURCES]
    assert not {s.id for s in SOS_ONLY_SOURCES} & set(ids)
    assert set(build_host(bundle).sources) == {s.id for s in SOURCES}
    result = runner.invoke(app, ["inventory", str(tgz), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)["bundles"][0]["sources"]] == [s.id for s in SOURCES]
