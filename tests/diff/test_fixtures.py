"""diff on real bundles: the one meaningful difference comes first; same-role hosts compare clean.

Variants are derived from the healthy fixtures in a temp dir (addresses renumbered, one rule added),
so each pair differs in exactly one known way.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from netsnap.cli.app import app
from netsnap.diff.compare import diff_snapshots
from netsnap.engine.run import run_rules
from netsnap.load import load_snapshot

FIXTURES = Path(__file__).parents[2] / "fixtures"
NODE1 = FIXTURES / "healthy" / "node1"


def _derive(src: Path, dst: Path, subs: list[tuple[str, str]]) -> Path:
    shutil.copytree(src, dst)
    for f in dst.rglob("*"):
        if f.is_file() and f.name != "manifest.json":
            text = f.read_text()
            for pattern, repl in subs:
                text = re.sub(pattern, repl, text)
            f.write_text(text)
    return dst


def _node2(tmp: Path) -> Path:
    return _derive(NODE1, tmp / "node2", [
        (r"\bnode1\b", "node2"),
        (r"\b192\.168\.122\.11\b", "192.168.122.12"),
        (r"\b10\.10\.0\.12\b", "10.10.0.13"),
        (r"\b10\.244\.1\.", "10.244.2."),
    ])


def _diff(good: Path, bad: Path) -> list[tuple[str, str, str | None, str | None, list[str]]]:
    g, b = load_snapshot([good]), load_snapshot([bad])
    bad_result = run_rules(b)
    result = diff_snapshots(g.hosts, b.hosts, run_rules(g).findings, bad_result.findings, bad_result.flows)
    return [(d.kind, d.key, d.good, d.bad, d.explains) for d in result.differences]


def test_two_healthy_nodes_of_the_same_role_show_no_meaningful_difference(tmp_path: Path) -> None:
    assert _diff(NODE1, _node2(tmp_path)) == []


def test_reject_rule_is_the_first_difference_and_explains_the_finding(tmp_path: Path) -> None:
    bad = _derive(NODE1, tmp_path / "node1-reject", [])
    ipt = bad / "firewall" / "iptables-save"
    text = ipt.read_text()
    # append the RHEL default REJECT as the last INPUT rule of the filter table
    filt_start = text.index("*filter")
    commit = text.index("COMMIT", filt_start)
    ipt.write_text(text[:commit] + "[0:0] -A INPUT -j REJECT --reject-with icmp-host-prohibited\n" + text[commit:])
    diffs = _diff(NODE1, bad)
    assert diffs, "the REJECT rule must show"
    kind, key, good, bad_value, explains = diffs[0]
    assert (kind, key, good) == ("iptables-rules", "filter INPUT", None)
    assert bad_value == "-j REJECT --reject-with icmp-host-prohibited"
    assert explains, "the REJECT difference must explain the firewall finding on the bad node"
    # nothing else of substance differs: the only other entries are findings that fire on one side
    assert all(d[0] in ("iptables-rules", "finding") for d in diffs)


def test_diff_cli_json_shape_and_exit_code(tmp_path: Path) -> None:
    runner = CliRunner()
    same = runner.invoke(app, ["diff", str(NODE1), str(_node2(tmp_path)), "--format", "json"])
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["differences"] == []
    usage = runner.invoke(app, ["diff", str(NODE1)])
    assert usage.exit_code == 2


def test_extra_management_network_is_the_first_difference() -> None:
    good = FIXTURES / "diff" / "master-without-mgmt-net"
    bad = FIXTURES / "incident-a" / "master"
    diffs = _diff(good, bad)
    kind, _key, good_value, bad_value, explains = diffs[0]
    assert kind == "default-route"
    assert good_value is not None and "dev eth1 via 192.168.0.1" in good_value
    assert bad_value is not None and "dev eth0 via 172.16.0.1" in bad_value
    assert any(a.startswith("NS301") for a in explains)
    top = {(d[0], d[1]) for d in diffs[:4]}
    assert ("network", "eth0 172.16.0.0/24") in top
    # the REJECT rules are on both masters, so they are not a difference
    assert not any(d[0] == "iptables-rules" for d in diffs)


def test_kube_proxy_hashes_counters_and_chain_order_do_not_drown_real_differences(tmp_path: Path) -> None:
    node2 = _node2(tmp_path)
    ipt = node2 / "firewall" / "iptables-save"
    text = ipt.read_text()
    # another host's kube-proxy: other hashed chain names, other counters, chains declared in another order
    kube = (
        ":KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]\n:KUBE-SEP-QRSTUVWXYZ234567 - [0:0]\n"
        "[7:420] -A KUBE-SVC-ABCDEFGHIJKLMNOP -m comment --comment \"default/web\" -j KUBE-SEP-QRSTUVWXYZ234567\n"
        "[7:420] -A KUBE-SEP-QRSTUVWXYZ234567 -p tcp -m tcp -j DNAT --to-destination 10.244.2.5:80\n"
    )
    text = re.sub(r"\[\d+:\d+\]", "[999:99999]", text)
    nat_commit = text.index("COMMIT")
    ipt.write_text(text[:nat_commit] + kube + text[nat_commit:])
    assert _diff(NODE1, node2) == []
