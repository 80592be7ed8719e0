"""Facts a bundle implies but does not hold are filled in once and stated as assumptions (issue 12):
without `ip addr`, addresses come from the connected routes, the local table and flanneld's journal."""

from __future__ import annotations

import shutil
from ipaddress import IPv4Interface
from pathlib import Path

from netsnap.combine.completion import infer_addresses
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
