"""build_host: the JSON ruleset with its rules quoted by their lines of the text ruleset (by handle), and
netdev devices (absent from nft's JSON) taken from the text; firewalld's state assembled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from netsnap.load import load_bundle
from netsnap.model.firewalld import firewalld_fix
from tests.bundle.tarbuild import sha, write_dir

FIX = Path(__file__).resolve().parents[1] / "parsers" / "fixtures"


def bundle(tmp: Path, files: dict[str, tuple[str, str]]) -> Path:
    """A collector directory bundle: source id -> (bundle path, content)."""
    entries: list[dict[str, Any]] = [
        {"id": sid, "path": path, "command": sid, "status": "ok", "exit_code": 0, "duration_ms": 1,
         "size": len(text), "sha256": sha(text), "truncated": False, "timed_out": False, "redacted": 0}
        for sid, (path, text) in files.items()]
    manifest = {"format": "netsnap-bundle/1", "collector_version": "0.1.0", "collected_at": "2026-12-07T10:00:00Z",
                "hostname": "node1", "sysroot": "/", "redactions": 0, "sources": entries}
    content: dict[str, bytes | str] = {path: text for path, text in files.values()}
    content["manifest.json"] = json.dumps(manifest)
    return write_dir(tmp / "netsnap-node1-20261207T100000Z", content)


def test_json_rules_are_quoted_by_their_text_lines(tmp_path: Path) -> None:
    text = (FIX / "nft_text" / "firewalld-1.3.3-cluster-a.in").read_text()
    js = (FIX / "nft_json" / "firewalld-1.3.3-cluster.in").read_text()
    host = load_bundle(bundle(tmp_path, {"nft_json": ("firewall/nft-ruleset.json", js),
                                         "nft_text": ("firewall/nft-list-ruleset", text)}))
    rs = host.nftables
    assert rs is not None and rs.origin == "json" and rs.version == "1.0.6"
    lines = text.splitlines()
    rules = [r for t in rs.tables.values() for c in t.chains.values() for r in c.rules]
    assert len(rules) == 144
    for rule in rules:
        assert rule.src.file == "firewall/nft-list-ruleset"
        assert lines[rule.src.line - 1].strip() == rule.raw and rule.raw.endswith(f"# handle {rule.handle}")
    assert host.sources["nft_json"].parsed == 144 and host.sources["nft_text"].parsed == 144


def test_netdev_devices_come_from_the_text(tmp_path: Path) -> None:
    text = (FIX / "nft_text" / "diverse-nft-1.0.6-a.in").read_text()
    js = (FIX / "nft_json" / "diverse-nft-1.0.6.in").read_text()
    alone = load_bundle(bundle(tmp_path / "a", {"nft_json": ("firewall/nft-ruleset.json", js)}))
    assert alone.nftables is not None and alone.nftables.tables["netdev edge"].chains["ingress"].devices == []
    both = load_bundle(bundle(tmp_path / "b", {"nft_json": ("firewall/nft-ruleset.json", js),
                                                "nft_text": ("firewall/nft-list-ruleset", text)}))
    assert both.nftables is not None and both.nftables.tables["netdev edge"].chains["ingress"].devices == ["lo"]


def test_firewalld_state_from_the_collector_files(tmp_path: Path) -> None:
    def fx(source: str, name: str) -> str:
        return (FIX / source / f"{name}.in").read_text()

    host = load_bundle(bundle(tmp_path, {
        "firewalld_state": ("firewall/firewalld-state", fx("firewalld_state", "running")),
        "firewalld_default_zone": ("firewall/firewalld-default-zone", fx("firewalld_default_zone", "public")),
        "firewalld_active_zones": ("firewall/firewalld-active-zones",
                                   fx("firewalld_active_zones", "firewalld-1.3.3-cluster")),
        "firewalld_zones": ("firewall/firewalld-list-all-zones", fx("firewalld_zones", "firewalld-1.3.3-cluster")),
    }))
    fw = host.firewalld
    assert fw is not None and fw.running and fw.default_zone == "public" and fw.uses_nftables()
    assert not fw.zones["public"].bindings_only and fw.zones["public"].ports == ["8472/udp"]  # the full block wins
    assert fw.zone_of(interface="eth1") is fw.zones["public"]


def test_ufw_state_from_status_and_defaults(tmp_path: Path) -> None:
    status = (FIX / "ufw_status" / "ufw-0.36.2-active-verbose.in").read_text()
    default = (FIX / "ufw_default" / "debian12-settings-derived.in").read_text()
    host = load_bundle(bundle(tmp_path, {"ufw_status": ("firewall/ufw-status", status),
                                         "ufw_default": ("firewall/etc-default-ufw", default)}))
    ufw = host.ufw
    assert ufw is not None and ufw.active
    assert (ufw.incoming, ufw.outgoing, ufw.routed) == ("deny", "allow", "disabled")
    assert ufw.conf["DEFAULT_FORWARD_POLICY"].value == "DROP"
    vxlan = next(r for r in ufw.rules if r.to == "8472/udp")
    assert (vxlan.action, vxlan.source, vxlan.comment, vxlan.v6) == ("ALLOW IN", "192.168.0.0/24", "flannel vxlan",
                                                                     False)
    assert [r.v6 for r in ufw.rules if r.to == "10250/tcp on eth1"] == [False, True]
    numbered = (FIX / "ufw_status" / "ufw-0.36.2-active-numbered.in").read_text()
    sos_like = load_bundle(bundle(tmp_path / "n", {"ufw_status": ("firewall/ufw-status", numbered)}))
    assert sos_like.ufw is not None and sos_like.ufw.incoming is None and sos_like.ufw.rules[0].number == 1


def test_firewalld_fix_commands() -> None:
    assert firewalld_fix("public", "udp", 8472) == ["firewall-cmd --permanent --zone=public --add-port=8472/udp",
                                                    "firewall-cmd --reload"]
    assert firewalld_fix("public", "icmp", None, forwarded=True, pod_network="10.244.0.0/16")[0] == (
        "firewall-cmd --permanent --zone=trusted --add-source=10.244.0.0/16")
    assert firewalld_fix(None, "icmp", None)[0] == "firewall-cmd --permanent --add-protocol=icmp"
    assert firewalld_fix("public", None, None) == []
