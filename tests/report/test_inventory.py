"""Per-host appendix tables: flannel files vs process, unparsed lines, caps on rules and raw text."""

from __future__ import annotations

from netsnap.model import FlagValue, IptRule, Provenance, Target
from netsnap.report.inventory import Caps, host_inventory
from tests.report import builders


def test_flannel_flags_side_by_side_and_differences() -> None:
    host = builders.master()
    proc = host.flannel.process_config
    assert proc is not None
    src = Provenance(file="flannel/cmdline", line=2)
    proc.flags["iface"] = FlagValue(name="iface", value="eth0", via="argv", src=src)
    inv = host_inventory(1, host)
    rows = {r[0]: r for r in inv.flannel_flags}
    assert rows["etcd-endpoints"][3] == ""
    assert rows["iface"][1] == "(default)" and rows["iface"][2].startswith("eth0  [argv, flannel/cmdline:2]")
    assert rows["iface"][3] == "differs"
    assert ("flannel/subnet.env", "FLANNEL_SUBNET", "172.18.100.1/24", "2") in inv.flannel_files


def test_unparsed_lines_and_sources_are_listed() -> None:
    inv = host_inventory(1, builders.master(payload="garbage line"))
    assert ("flannel_journal", "flannel/journal", "5", "garbage line") in inv.unparsed
    states = {r[0]: r[1] for r in inv.sources}
    assert states["ethtool"] == "command missing"


def test_rule_rows_and_raw_text_are_capped_and_say_so() -> None:
    caps = Caps(routes=1, interfaces=100, chains=2, rules_per_chain=3, rule_rows=4, unparsed=100, raw_chars=10,
                raw_chars_per_host=15)
    host = builders.master()
    chain = host.iptables["iptables"].tables["filter"].chains["INPUT"]
    chain.rules = [IptRule(table="filter", chain="INPUT", position=k, target=Target(name="ACCEPT"),
                           src=Provenance(file="f", line=k), raw=f"-A INPUT {k}") for k in range(1, 8)]
    inv = host_inventory(1, host, {"a": "x" * 12, "b": "y" * 12, "c": "z"}, caps)
    by_chain = {c.chain: c for c in inv.chains}
    assert set(by_chain) == {"FORWARD", "INPUT"}  # built-in chains first
    assert len(by_chain["FORWARD"].rules) == 1 and by_chain["FORWARD"].hidden == 0
    assert len(by_chain["INPUT"].rules) == 3 and by_chain["INPUT"].hidden == 4
    assert sum(len(c.rules) for c in inv.chains) == 4
    assert [(f.name, f.text, f.truncated) for f in inv.raw_files] == [
        ("a", "x" * 10, True), ("b", "y" * 5, True), ("c", "", True)]
    assert len(inv.routes) == 1
    more = len(host.routes) - 1
    assert f"{more:,} more routes: in the bundle; --full-appendix embeds them" in inv.omitted
    full = host_inventory(1, host, {"a": "x" * 12}, Caps.full())
    assert len(full.routes) == len(host.routes) and not full.omitted and not full.raw_files[0].truncated


def test_flannel_journal_choice_is_shown() -> None:
    from netsnap.model import FlannelEvent

    host = builders.master()
    host.flannel.events = [
        FlannelEvent(src=Provenance(file="flannel/journal", line=4), kind="iface-chosen",
                     message="Using 172.16.0.4 as external interface"),
        FlannelEvent(src=Provenance(file="flannel/journal", line=9), kind="lease", message="Lease acquired"),
    ]
    assert host_inventory(1, host).flannel_notes == [
        "journal flannel/journal:4: Using 172.16.0.4 as external interface"]
