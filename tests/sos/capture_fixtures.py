"""Write fixtures/sos-4.0 and fixtures/sos-4.12 from one real capture (run as root:
`.venv/bin/python -m tests.sos.capture_fixtures`; it needs `ip netns`, the collector and Debian's sos 4.0).

The "reject" lab scenario (tests/sos/scenarios.py: node1 has the RHEL default firewall) is built, then
captured by the real `sos report` and by netsnap's collector on each host (tests/lab/sos.py). From each
sosreport only the files netsnap maps are kept (small fixtures):

- fixtures/sos-4.0/: those files as sos 4.0 wrote them, names unchanged; the manifest keeps the entries of
  the kept files and of the commands sos found missing.
- fixtures/sos-4.12/: the same captures renamed as sos 4.12.0 names them (docs/sosreport.md): the iptables
  listings under sos_commands/firewall_tables, `ip -4 rule list`, no `route -n` (removed in 4.5.4) and a root
  link `ip_route` instead of `route`, and the pod namespace's files in
  sos_commands/networking/namespaces/NS/ under 4.12's commands, whose output is captured for real in the
  same namespace at the same moment (`ip -d address show`, `ip -4 rule list`, ...: 4.0 ran other ones).

The collector's bundles of the same moment are kept in fixtures/sos-4.0/collector/, so that the
sosreports can be compared with them without the lab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from netsnap.bundle.archive import read_archive
from netsnap.bundle.model import Limits
from netsnap.bundle.sosreport import SOS_MANIFEST, SOS_NETNS, mangle, read_sosreport, real_path
from tests.lab.netns import NetnsLab
from tests.lab.sos import capture
from tests.sos.scenarios import BY_NAME

REPO = Path(__file__).resolve().parents[2]
OUT_40, OUT_412 = REPO / "fixtures" / "sos-4.0", REPO / "fixtures" / "sos-4.12"
NET = "sos_commands/networking/"
FW = "sos_commands/firewall_tables/"
# 4.0 name -> 4.12.0 name (None: 4.12.0 writes no such file)
RENAMES: dict[str, str | None] = {
    NET + "iptables_-vnxL": FW + "iptables_-vnxL",
    NET + "iptables_-t_filter_-nvL": FW + "iptables_-t_filter_-nvL",
    NET + "iptables_-t_nat_-nvL": FW + "iptables_-t_nat_-nvL",
    NET + "iptables_-t_mangle_-nvL": FW + "iptables_-t_mangle_-nvL",
    NET + "iptables_-t_raw_-nvL": FW + "iptables_-t_raw_-nvL",
    NET + "ip_-4_rule": NET + "ip_-4_rule_list",
    NET + "route_-n": None,
}
EXEC_RENAMES = {"ip -4 rule": "ip -4 rule list"}
# what sos 4.12.0 runs in each other namespace (networking plugin), captured for real in the pod namespace
NS_COMMANDS_412 = ("ip -d address show", "ip route show table all", "ip -s -s neigh show", "ip -4 rule list",
                   "iptables-save")
SYSCTL_PREFIXES = ("net.ipv4.ip_forward", "net.ipv4.conf.", "net.bridge.", "net.netfilter.nf_conntrack_max",
                   "net.nf_conntrack_max")


def _trim_sysctl(text: bytes) -> bytes:
    lines = [line for line in text.decode().splitlines() if line.startswith(SYSCTL_PREFIXES)]
    return ("\n".join(lines) + "\n").encode()


def _write(root: Path, data: dict[str, bytes], links: dict[str, str]) -> None:
    for rel, raw in sorted(data.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    for rel, target in sorted(links.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_symlink():
            os.symlink(target, path)


def _trim_manifest(raw: bytes, kept: set[str], renames: dict[str, str | None], version: str,
                   exec_renames: dict[str, str]) -> bytes:
    """The manifest with only the entries of kept files and of missing commands (paths and commands renamed)."""
    manifest: dict[str, Any] = json.loads(raw)
    manifest["version"] = version
    for plugin in manifest["components"]["report"]["plugins"].values():
        commands = []
        for cmd in plugin.get("commands", []):
            path = cmd.get("filepath")
            if path in renames:
                if renames[path] is None:
                    continue
                cmd["filepath"] = renames[path]
            missing = path is None and cmd.get("return_code") in (126, 127)
            if missing or cmd.get("filepath") in kept:
                cmd["exec"] = exec_renames.get(cmd["exec"], cmd["exec"])
                commands.append(cmd)
        plugin["commands"] = commands
        plugin["files"] = []
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


def _subset(tarball: str) -> tuple[str, dict[str, bytes], dict[str, str]]:
    """The files netsnap maps in a sosreport (its own mapping decides: every source's member, the other
    namespaces' files, the manifest; sysctl trimmed, dmesg left out) and the links that lead to them
    (root links, proc/net -> self/net, proc/self -> PID, etc/os-release -> ../usr/lib/os-release)."""
    members = read_archive(tarball, Limits())
    members.strip_top()
    bundle = read_sosreport(members, tarball, "")
    used = {m for sf in (*bundle.files.values(), *bundle.missing.values())
            for m, _ in (sf.parts or [(sf.file, 0)]) if m in members.data}
    used |= {f for files in bundle.namespaces.values() for f in files if f in members.data}
    used |= {SOS_NETNS} & set(members.data)
    used.discard("sos_commands/kernel/dmesg")
    kept = {rel: _trim_sysctl(members.data[rel]) if rel == "sos_commands/kernel/sysctl_-a" else members.data[rel]
            for rel in used}
    kept[SOS_MANIFEST] = _trim_manifest(members.data[SOS_MANIFEST], set(kept), {}, "4.0", {})
    links = {}
    for link in members.links:
        real = real_path(members, link)
        if real is not None and (real in kept or any(k.startswith(real + "/") for k in kept)):
            links[link] = members.links[link]
    assert members.top is not None
    return members.top, kept, links


def _as_412(name: str, data: dict[str, bytes], links: dict[str, str], ns_outputs: dict[str, bytes]
            ) -> tuple[dict[str, bytes], dict[str, str]]:
    out: dict[str, bytes] = {}
    for rel, raw in data.items():
        if "ip_netns_exec_" in rel:
            continue  # replaced by 4.12's namespace folder below
        new = RENAMES.get(rel, rel)
        if new is not None:
            out[new] = raw
    ns = f"c-{name}"
    for cmd, raw in ns_outputs.items():
        out[f"{NET}namespaces/{ns}/{mangle(f'ip netns exec {ns}  {cmd}')}"] = raw
    renames = dict(RENAMES)
    out["sos_reports/manifest.json"] = _trim_manifest(data["sos_reports/manifest.json"], set(out), renames, "4.12.0",
                                                      EXEC_RENAMES)
    new_links = {k: v for k, v in links.items() if RENAMES.get(v, v) is not None}
    new_links["ip_route"] = NET + "ip_route_show_table_all"
    return out, new_links


def main() -> None:
    work = Path("/tmp") / f"netsnap-sos-fixtures-{os.getpid()}"
    scenario = BY_NAME["reject"]
    ns_outputs: dict[str, dict[str, bytes]] = {}
    with NetnsLab() as lab:
        fl = scenario.setup(lab)
        caps = capture(fl, work)
        for h in fl.hosts:
            ns_outputs[h.name] = {cmd: lab.sh(f"c-{h.name}", cmd).stdout.encode() for cmd in NS_COMMANDS_412}
    for out in (OUT_40, OUT_412):
        shutil.rmtree(out, ignore_errors=True)
    (OUT_40 / "collector").mkdir(parents=True)
    for name, cap in caps.items():
        top, data, links = _subset(cap.sosreport)
        _write(OUT_40 / top, data, links)
        data412, links412 = _as_412(name, data, links, ns_outputs[name])
        _write(OUT_412 / top.replace("-lab-", "-lab412-"), data412, links412)
        shutil.copy(cap.collector, OUT_40 / "collector" / Path(cap.collector).name)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT_40} and {OUT_412}")
    subprocess.run(["du", "-sh", str(OUT_40), str(OUT_412)], check=False)


if __name__ == "__main__":
    main()
