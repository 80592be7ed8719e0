"""`netsnap trace` through the real CLI on the healthy fixture bundles: formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.cli.app import app

REPO = Path(__file__).resolve().parents[2]
BUNDLES = [str(REPO / "fixtures" / "healthy" / "master"), str(REPO / "fixtures" / "healthy" / "node1")]
SG = REPO / "fixtures" / "secgroups"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["trace", *BUNDLES, *args])
    return res.exit_code, res.stdout, res.stderr


def test_reachable_text_with_provenance_exits_0() -> None:
    code, out, _ = run("--from", "master", "--to", "10.244.1.5", "--no-security-groups")
    assert code == 0
    assert "verdict: REACHABLE" in out and "vxlan encap" in out
    assert "neigh/bridge-fdb:" in out and "firewall/iptables-save:" in out


def test_json_is_the_trace_result() -> None:
    code, out, _ = run("--from", "10.10.0.11", "--to", "10.244.1.5", "--format", "json", "--no-security-groups")
    data = json.loads(out)
    assert code == 0 and data["verdict"] == "reachable" and data["disposition"] == "delivered"
    assert data["src_host"] == "master" and data["hops"][0]["stage"] == "originate"
    assert data["reply"]["verdict"] == "reachable"


def test_bare_metal_needs_no_export_and_says_so() -> None:
    code, out, _ = run("--from", "master", "--to", "10.244.1.5")
    assert code == 0 and "verdict: REACHABLE" in out
    words = " ".join(out.split())  # the text wraps at the terminal width
    assert ("assumed: master: no cloud evidence (cloud MAC prefix, metadata route, DMI): no security group in front "
            "of eth1") in words


def test_cloud_host_without_exports_is_unknown_and_names_the_rule(tmp_path: Path) -> None:
    import shutil

    from tests.rules.bundles import write_manifest

    bundles = []
    for name, gw in (("master", "192.168.122.1"), ("node1", "192.168.122.1")):
        shutil.copytree(REPO / "fixtures" / "healthy" / name, tmp_path / name)
        routes = tmp_path / name / "routes" / "ip-route"
        routes.write_text(f"169.254.169.254 via {gw} dev eth0 proto dhcp metric 100 \n" + routes.read_text())
        write_manifest(tmp_path / name)
        bundles.append(str(tmp_path / name))
    res = runner.invoke(app, ["trace", *bundles, "--from", "master", "--to", "10.244.1.5"])
    assert res.exit_code == 1 and "verdict: UNKNOWN" in res.stdout
    assert "ingress udp 8472 from 10.10.0.11" in res.stdout


def test_security_group_export_without_8472_is_unreachable() -> None:
    code, out, _ = run("--from", "master", "--to", "10.244.1.5", "--format", "json",
                       "--security-group", f"master={SG / 'openstack-rule-list.json'}",
                       "--security-group", f"10.10.0.12={SG / 'incident-a-no-8472.json'}")
    data = json.loads(out)
    assert code == 1 and (data["verdict"], data["disposition"]) == ("unreachable", "denied-in")
    assert "incident-a-no-8472.json" in data["reason"]


def test_usage_and_input_errors_exit_2_with_one_line() -> None:
    for args, needle in (
        (["--from", "ghost", "--to", "10.244.1.5"], "host 'ghost' is not in the snapshot"),
        (["--from", "master", "--to", "10.244.1"], "not an IP address"),
        (["--from", "master", "--to", "10.244.1.5", "--proto", "tcp"], "--port is required"),
        (["--from", "master", "--to", "10.244.1.5", "--security-group", "master"], "expected HOST=FILE"),
        (["--from", "master", "--to", "10.244.1.5", "--security-group", f"master={REPO / 'README.md'}"],
         "not JSON and not the native format"),
    ):
        code, _, err = run(*args)
        assert code == 2, args
        assert needle in err and len(err.strip().splitlines()) == 1, err
    res = runner.invoke(app, ["trace", "/nonexistent/bundle", "--from", "a", "--to", "1.2.3.4"])
    assert res.exit_code == 2 and "/nonexistent/bundle" in res.stderr


@pytest.mark.parametrize(("member", "value", "cloud"), [
    ("identity/dmi-product-name", "OpenStack Nova", True),
    ("identity/dmi-chassis-asset-tag", "HUAWEICLOUD", True),
    ("identity/dmi-sys-vendor", "Amazon EC2", True),
    ("identity/dmi-sys-vendor", "QEMU", False),  # a plain hypervisor: still no security group assumed
])
def test_dmi_strings_are_cloud_evidence(tmp_path: Path, member: str, value: str, cloud: bool) -> None:
    """A cloud's DMI strings make the NICs cloud ports: without an export the crossing is unknown."""
    import shutil

    from tests.rules.bundles import write_manifest

    bundles = []
    for name in ("master", "node1"):
        shutil.copytree(REPO / "fixtures" / "healthy" / name, tmp_path / name)
        (tmp_path / name / member).write_text(value + "\n")
        write_manifest(tmp_path / name)
        bundles.append(str(tmp_path / name))
    res = runner.invoke(app, ["trace", *bundles, "--from", "master", "--to", "10.244.1.5", "--format", "json"])
    data = json.loads(res.stdout)
    assert data["verdict"] == ("unknown" if cloud else "reachable")
    assumed = " ".join(data["assumptions"])
    assert ("no cloud evidence (cloud MAC prefix, metadata route, DMI)" in assumed) is (not cloud)
