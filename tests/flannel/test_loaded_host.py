"""End to end through the loader: a collector-style directory for incident A's master gives the effective
configuration and the interface flanneld picked, with provenance into the bundle's files."""

from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path

from netsnap.flannel.iface_select import choose_external
from netsnap.load import load_bundle

from .test_iface_select import MASTER_ADDRS, MASTER_ROUTES

FIX = Path(__file__).parents[1] / "parsers" / "fixtures"

FILES = {
    "identity/hostname": "k8s-master-1\n",
    "routes/route-n": MASTER_ROUTES,
    "links/ip-d-address": MASTER_ADDRS,
    "flannel/journal": (FIX / "flannel_journal" / "v05_incident_a.in").read_text(),
    "flannel/etc-default-flanneld": 'FLANNEL_OPTS="--ip-masq true -iface=eth1 -public-ip=192.168.0.15"\n',
    "flannel/cmdline": "# pid 1523\n/usr/bin/flanneld\n-etcd-endpoints=https://192.168.0.15:4003\n",
}


def write_bundle(root: Path, files: dict[str, str]) -> Path:
    sources = []
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        sid = {"identity/hostname": "hostname", "routes/route-n": "route_n", "links/ip-d-address": "ip_addr",
               "flannel/journal": "flannel_journal", "flannel/etc-default-flanneld": "flannel_env_default",
               "flannel/cmdline": "flannel_cmdline"}[path]
        sources.append({"id": sid, "path": path, "command": "x", "status": "ok", "exit_code": 0, "size": len(text)})
    (root / "manifest.json").write_text(json.dumps({
        "format": "netsnap-bundle/1", "collector_version": "0.1.0", "collected_at": "2026-11-26T10:05:00Z",
        "hostname": "k8s-master-1", "sysroot": "/", "redactions": 0, "sources": sources}))
    return root


def test_incident_a_master_through_the_loader(tmp_path: Path) -> None:
    host = load_bundle(write_bundle(tmp_path / "master", FILES))
    fl = host.flannel
    files_cfg, proc_cfg = fl.files_config, fl.process_config
    assert files_cfg is not None and proc_cfg is not None
    # the stray word "true" hides -iface and -public-ip from flanneld
    assert files_cfg.ignored == ["true", "-iface=eth1", "-public-ip=192.168.0.15"]
    assert any("(flannel/etc-default-flanneld:1)" in p for p in files_cfg.problems)
    assert proc_cfg.get("etcd-endpoints") == "https://192.168.0.15:4003"
    sel = choose_external(host, files_cfg)
    assert (sel.iface, sel.address, sel.method) == ("eth0", IPv4Address("172.16.0.4"), "default-route")
    # ... which is what the journal says flanneld used
    [chosen] = fl.events_of("iface-chosen")
    assert chosen.fields["address"] == str(sel.address)
    assert chosen.src.file == "flannel/journal" and chosen.src.line == 5
    assert any(ev.file == "routes/route-n" for ev in sel.evidence)


def test_ip_s_d_link_supplies_vxlan_details_when_ip_d_link_is_absent() -> None:
    # sosreports have no `ip -d link`: `ip -s -d link` (source ip_link_stats) carries the VXLAN details
    from netsnap.load import _merge_interfaces
    from netsnap.model import BundleInfo, Host, Identity, Interface, Provenance, VxlanInfo

    host = Host(name="h", bundle=BundleInfo(path="/b", kind="sosreport"), identity=Identity(hostname="h"))
    src = Provenance(file="sos_commands/networking/ip_-d_address", line=3)
    _merge_interfaces(host, [Interface(name="flannel.1", src=src, raw="flannel.1")])
    stats_src = Provenance(file="sos_commands/networking/ip_-s_-d_link", line=7)
    vx = VxlanInfo(vni=1, dstport=8472, src=stats_src)
    _merge_interfaces(host, [Interface(name="flannel.1", kind="vxlan", mtu=1450, vxlan=vx, src=stats_src,
                                       raw="flannel.1")])
    got = host.interfaces["flannel.1"]
    assert (got.kind, got.mtu, got.vxlan) == ("vxlan", 1450, vx)
