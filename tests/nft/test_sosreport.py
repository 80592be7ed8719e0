"""sosreports: the nft and firewalld files of each sos release map onto the nft/firewalld sources and the
host model (the layouts follow sos's plugin sources, tags 3.5 .. 4.12: `nft -a list ruleset` in
firewall_tables from 4.6.1, `nft list ruleset` in firewall_tables 4.1 .. 4.6.0, in firewalld 3.7 .. 4.2
and in networking 3.5 .. 4.0). File contents are real captures (tests/parsers/fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.bundle.reader import open_bundle
from netsnap.load import load_bundle
from netsnap.model.host import SourceState
from tests.bundle.tarbuild import write_dir

FIX = Path(__file__).resolve().parents[1] / "parsers" / "fixtures"
RULESET_A = (FIX / "nft_text" / "firewalld-1.3.3-cluster-a.in").read_text()
RULESET = (FIX / "nft_text" / "firewalld-1.3.3-default-plain.in").read_text()
ZONES = (FIX / "firewalld_zones" / "firewalld-1.3.3-cluster.in").read_text()
CONF = (FIX / "firewalld_conf" / "debian12-settings-derived.in").read_text()


def sosdir(tmp: Path, files: dict[str, str]) -> Path:
    base = {"hostname": "node1\n", "sos_commands/networking/ip_-d_address": "", "sos_logs/sos.log": ""}
    return write_dir(tmp / "sosreport-node1-2026-12-07-abcdef", {**base, **files})


@pytest.mark.parametrize(("release", "path", "text"), [
    ("4.6.1+", "sos_commands/firewall_tables/nft_-a_list_ruleset", RULESET_A),
    ("4.1-4.6.0", "sos_commands/firewall_tables/nft_list_ruleset", RULESET),
    ("3.7-4.2", "sos_commands/firewalld/nft_list_ruleset", RULESET),
    ("3.5-4.0", "sos_commands/networking/nft_list_ruleset", RULESET),
])
def test_each_sos_release_layout(tmp_path: Path, release: str, path: str, text: str) -> None:
    root = sosdir(tmp_path, {path: text})
    bundle = open_bundle(root)
    assert bundle.files["nft_text"].file == path, release
    host = load_bundle(root)
    assert host.nftables is not None and host.nftables.origin == "text"
    assert "inet firewalld" in host.nftables.tables
    assert host.sources["nft_text"].parsed == host.nftables.rule_count() > 50


def test_sos_4_1_has_the_ruleset_twice_the_newest_plugin_wins(tmp_path: Path) -> None:
    root = sosdir(tmp_path, {"sos_commands/firewall_tables/nft_list_ruleset": RULESET,
                             "sos_commands/firewalld/nft_list_ruleset": RULESET})
    assert open_bundle(root).files["nft_text"].file == "sos_commands/firewall_tables/nft_list_ruleset"


def test_firewalld_plugin_files(tmp_path: Path) -> None:
    root = sosdir(tmp_path, {
        "sos_commands/firewall_tables/nft_-a_list_ruleset": RULESET_A,
        "sos_commands/firewalld/firewall-cmd_--state": "running\n",
        "sos_commands/firewalld/firewall-cmd_--get-log-denied": "off\n",
        "sos_commands/firewalld/firewall-cmd_--list-all-zones": ZONES,
        "etc/firewalld/firewalld.conf": CONF,
    })
    host = load_bundle(root)
    fw = host.firewalld
    assert fw is not None and fw.running and fw.log_denied == "off" and fw.backend == "nftables"
    assert fw.default_zone == "public"  # firewalld.conf's DefaultZone: sos does not run --get-default-zone
    assert fw.zones["public"].ports == ["8472/udp"] and fw.zone_of(source="10.244.0.0/16") is not None
    assert host.sources["firewalld_default_zone"].state is SourceState.NOT_COLLECTED
    assert "nft_json" not in open_bundle(root).files  # sos never collects the JSON form


def test_empty_nft_file_of_sos_3_is_not_collected(tmp_path: Path) -> None:
    # sos 3.x wrote an empty file when a command was missing or its predicate failed
    root = sosdir(tmp_path, {"sos_commands/networking/nft_list_ruleset": ""})
    host = load_bundle(root)
    assert host.nftables is None and not host.sources["nft_text"].usable
