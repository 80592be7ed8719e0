"""Where a VXLAN port comes from: the vxlan module's udp_port and the modprobe.d option that sets it, read
from a collector bundle and from a sosreport, and named by NS302's remediation."""

from __future__ import annotations

from pathlib import Path

from netsnap.load import load_bundle
from tests.bundle.tarbuild import write_dir
from tests.rules.test_rule_cases import run_case

OPTION = "options vxlan udp_port=4789\n"


def test_ns302_names_the_modprobe_option_behind_the_odd_port(tmp_path: Path) -> None:
    result = run_case("NS302", "fire", tmp_path)
    (finding,) = [f for f in result.findings if f.rule == "NS302"]
    origin = [line for line in finding.remediation if "udp_port" in line]
    assert origin == ["# on node1: dstport 4789 is the vxlan module's udp_port, set by `options vxlan udp_port=4789` "
                      "in /etc/modprobe.d/vxlan.conf (kernel/modprobe-d:3): remove that option (it applies when the "
                      "module is loaded: reboot, or unload and reload vxlan)"]
    quoted = [(e.host, e.file, e.line, e.text) for e in finding.evidence if e.file == "kernel/modprobe-d"]
    assert quoted == [("node1", "kernel/modprobe-d", 3, OPTION.strip())]


def test_a_port_no_option_sets_is_not_blamed_on_one(tmp_path: Path) -> None:
    result = run_case("NS302", "pass", tmp_path)
    assert not [f for f in result.findings if f.rule == "NS302"]


def test_sosreport_modprobe_files_each_keep_their_lines(tmp_path: Path) -> None:
    """sos copies every modprobe.d file (4.5.0+: /run, /usr/local/lib, /lib too; /lib may be a link to /usr/lib):
    they are read in modprobe's order (by file name; /etc's file hides /usr/lib's of the same name), each option
    traced to its own file, and the last udp_port read wins."""
    root = write_dir(tmp_path / "sosreport-n1-2026-01-01-abc", {
        "sos_reports/manifest.json": '{"version": "4.5.0"}',
        "sys/module/vxlan/parameters/udp_port": "4789\n",
        "etc/modprobe.d/blacklist.conf": "blacklist pcspkr\n",
        "etc/modprobe.d/vxlan.conf": "# windows nodes\n" + OPTION,
        "usr/lib/modprobe.d/systemd.conf": "options bonding max_bonds=0\noptions vxlan udp_port=8472\n",
        "usr/lib/modprobe.d/vxlan.conf": "options vxlan udp_port=1234\n",  # hidden by /etc's vxlan.conf
    })
    (root / "lib").symlink_to("usr/lib")
    host = load_bundle(root)
    vm = host.vxlan_module
    assert vm.port == 4789 and vm.udp_port is not None
    assert vm.udp_port.src.file == "sys/module/vxlan/parameters/udp_port"
    assert [(o.value, str(o.src)) for o in vm.options] == [("8472", "usr/lib/modprobe.d/systemd.conf:2"),
                                                           ("4789", "etc/modprobe.d/vxlan.conf:2")]
    assert host.sources["modprobe_vxlan"].file == "etc/modprobe.d/*.conf"
    assert vm.port_origin() == ("`options vxlan udp_port=4789` in etc/modprobe.d/vxlan.conf:2 (read after "
                                "`options vxlan udp_port=8472` in usr/lib/modprobe.d/systemd.conf:2)")


def test_nothing_collected_says_nothing() -> None:
    from netsnap.model.kernel import VxlanModule

    assert VxlanModule().port_origin() is None and VxlanModule().port is None
