"""Write fixtures/sos-4.0 and fixtures/sos-4.12 from real captures of one lab build (run as root:
`NETSNAP_SOS="/usr/bin/python3 /tmp/sos412/bin/sos" .venv/bin/python -m tests.sos.capture_fixtures [4.0] [4.12]`,
default both; it needs `ip netns`, the collector, Debian's sos 4.0 for 4.0 and sos 4.12.0 for 4.12 — the
installed `sos` or NETSNAP_SOS, whichever prints that release: tests/lab/sos.py).

The "reject" lab scenario (tests/sos/scenarios.py: node1 has the RHEL default firewall) is built once, then
captured by netsnap's collector and the real `sos report` of each release asked for, on each host, one release
after the other (tests/lab/sos.py). From each sosreport only the files netsnap maps are kept, names and content
unchanged (small fixtures): those its own mapping picks, the other namespaces' files, `ip netns`, the links that
lead to them; `sysctl -a` cut to the keys netsnap reads, dmesg left out, the manifest cut to the entries of the
kept files and of the commands sos found missing. The collector's bundles of the same moment are kept in
fixtures/sos-RELEASE/collector/, so that the sosreports can be compared with them without the lab.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from netsnap.bundle.archive import read_archive
from netsnap.bundle.model import Limits
from netsnap.bundle.sosreport import SOS_MANIFEST, SOS_NETNS, read_sosreport, real_path
from tests.lab.netns import NetnsLab
from tests.lab.sos import Sos, capture, skip_reason, sos_command, sos_version
from tests.sos.scenarios import BY_NAME

REPO = Path(__file__).resolve().parents[2]
OUT_40, OUT_412 = REPO / "fixtures" / "sos-4.0", REPO / "fixtures" / "sos-4.12"
# release asked for -> (fixture folder, the version sos prints)
RELEASES = {"4.0": (OUT_40, "4.0"), "4.12": (OUT_412, "4.12.0")}
# this machine's kernel log; a namespace's SNMP counters (sos 4.3+), 20 KB netsnap never reads
LEFT_OUT = ("sos_commands/kernel/dmesg", "_nstat_-zas")
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


def _trim_manifest(raw: bytes, kept: set[str]) -> bytes:
    """The manifest with only the entries of kept files and of missing commands (tag_summary too, sos 4.1+)."""
    manifest: dict[str, Any] = json.loads(raw)
    for plugin in manifest["components"]["report"]["plugins"].values():
        commands = []
        for cmd in plugin.get("commands", []):
            path = cmd.get("filepath")
            missing = path is None and cmd.get("return_code") in (126, 127)
            if missing or path in kept:
                commands.append(cmd)
        plugin["commands"] = commands
        plugin["files"] = []
    summary = manifest["components"]["report"].get("tag_summary", {})
    for tag, paths in list(summary.items()):
        summary[tag] = [path for path in paths if path in kept]
        if not summary[tag]:
            del summary[tag]
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


def _subset(tarball: str) -> tuple[str, dict[str, bytes], dict[str, str]]:
    """The files netsnap maps in a sosreport (its own mapping decides: every source's member, the other
    namespaces' files, the manifest; every sysctl -a trimmed, LEFT_OUT left out) and the links that lead to them
    (root links, proc/net -> self/net, proc/self -> PID, etc/os-release -> ../usr/lib/os-release)."""
    members = read_archive(tarball, Limits())
    members.strip_top()
    bundle = read_sosreport(members, tarball, "")
    used = {m for sf in (*bundle.files.values(), *bundle.missing.values())
            for m, _ in (sf.parts or [(sf.file, 0)]) if m in members.data}
    used |= {f for files in bundle.namespaces.values() for f in files if f in members.data}
    used |= {SOS_NETNS} & set(members.data)
    used = {rel for rel in used if not rel.endswith(LEFT_OUT)}
    kept = {rel: _trim_sysctl(members.data[rel]) if rel.endswith("sysctl_-a") else members.data[rel] for rel in used}
    kept[SOS_MANIFEST] = _trim_manifest(members.data[SOS_MANIFEST], set(kept))
    links = {}
    for link in members.links:
        real = real_path(members, link)
        if real is not None and (real in kept or any(k.startswith(real + "/") for k in kept)):
            links[link] = members.links[link]
    assert members.top is not None
    return members.top, kept, links


def _sos_of(release: str) -> Sos:
    """The sos command line that prints `release`'s version: the installed `sos` or NETSNAP_SOS."""
    version = RELEASES[release][1]
    for sos in dict.fromkeys([("sos",), sos_command()]):
        if skip_reason(sos) is None and sos_version(sos) == version:
            return sos
    raise SystemExit(f"capture_fixtures: no sos {version} here: neither `sos` nor NETSNAP_SOS "
                     f"({shlex.join(sos_command())}) prints that version")


def main(argv: list[str]) -> None:
    releases = argv or list(RELEASES)
    unknown = sorted(set(releases) - set(RELEASES))
    if unknown:
        raise SystemExit(f"capture_fixtures: unknown release {unknown}; known: {sorted(RELEASES)}")
    commands = {release: _sos_of(release) for release in releases}
    work = Path("/tmp") / f"netsnap-sos-fixtures-{os.getpid()}"
    scenario = BY_NAME["reject"]
    with NetnsLab() as lab:
        fl = scenario.setup(lab)
        caps = {release: capture(fl, work / release, sos=sos) for release, sos in commands.items()}
    for release, by_host in caps.items():
        out = RELEASES[release][0]
        shutil.rmtree(out / "collector", ignore_errors=True)
        for old in out.glob("sosreport-*"):
            shutil.rmtree(old)
        (out / "collector").mkdir(parents=True)
        for cap in by_host.values():
            top, data, links = _subset(cap.sosreport)
            _write(out / top, data, links)
            shutil.copy(cap.collector, out / "collector" / Path(cap.collector).name)
        print(f"wrote {out} ({shlex.join(commands[release])}, sos {RELEASES[release][1]})")
        subprocess.run(["du", "-sh", "--apparent-size", str(out)], check=False)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
