"""Facts a bundle implies but does not hold are filled in once and stated as assumptions (issue 12):
without `ip addr`, addresses come from the connected routes, the local table and flanneld's journal."""

from __future__ import annotations

import shutil
from ipaddress import IPv4Interface
from pathlib import Path

from netsnap.combine.completion import infer_addresses
from netsnap.combine.overlay import journal_choice
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot
from tests.rules.bundles import write_manifest

HEALTHY = Path(__file__).resolve().parents[2] / "fixtures" / "healthy"


def _without(tmp: Path, *rel: str) -> list[str]:
    out = []
    for name in ("master", "node1"):
        shutil.copytree(HEALTHY / name, tmp / name)
        for r in rel:
            (tmp / name / r).unlink()
        write_manifest(tmp / name)
        out.append(str(tmp / name))
    return out


def test_addresses_from_routes_when_ip_addr_is_missing(tmp_path: Path) -> None:
    snap = load_snapshot(_without(tmp_path, "links/ip-d-address"))
    master = snap.hosts[0]
    assert not master.has("ip_addr")
    done = infer_addresses(master)
    eth1 = [a for a in done.interfaces["eth1"].addresses if isinstance(a.address, IPv4Interface)]
    assert [str(a.address) for a in eth1] == ["10.10.0.11/24"]
    assert eth1[0].src.file == "routes/ip-route"  # quoted from the line it was read from
    assert done.assumptions and done.assumptions[0].startswith("master: ip addr not collected; ")
    original = master.interfaces.get("eth1")  # from ip -d link: no addresses; never modified in place
    assert original is not None and original.addresses == []


def test_nothing_is_inferred_where_the_bundle_holds_the_fact() -> None:
    snap = load_snapshot([str(HEALTHY / "master")])
    assert infer_addresses(snap.hosts[0]) is snap.hosts[0]


def test_the_verdict_holds_and_says_what_was_assumed(tmp_path: Path) -> None:
    res = run_rules(load_snapshot(_without(tmp_path, "links/ip-d-address", "neigh/ip-neigh", "neigh/bridge-fdb")))
    assert {f.verdict for f in res.flows} == {"reachable"}
    joined = " ".join(a for f in res.flows for a in f.assumptions)
    assert "ip addr not collected" in joined and "the neighbour table was not collected" in joined
    assert "bridge fdb was not collected" in joined


def test_a_logged_address_that_is_not_one_is_ignored_not_fatal(tmp_path: Path) -> None:
    """A corrupt or hand-edited journal (`999.1.1.10`, `010.0.0.1`) names no address: the choice and the
    inferred addresses leave it out, and the analysis goes on (it used to end in an internal error)."""
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "journal").write_text(
        "Nov 26 10:00:01 node1 flanneld[1234]: I1126 10:00:01.000001    1234 main.go:531] Using interface with "
        "name eth0 and address 999.1.1.10\n"
        "Nov 26 10:00:02 node1 flanneld[1234]: I1126 10:00:02.000002    1234 main.go:548] Defaulting external "
        "address to interface address (010.0.0.1)\n")
    snap = load_snapshot([str(tmp_path / "node")])
    host = snap.hosts[0]
    assert len(host.flannel.events) == 2
    assert infer_addresses(host) is host  # nothing inferred from a non-address
    choice = journal_choice(host)
    assert choice.address is None and choice.public is None and choice.iface is None
    assert run_rules(snap).verdict  # the whole analysis runs
