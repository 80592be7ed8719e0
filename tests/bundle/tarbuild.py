"""Building test archives (including hostile ones) in memory with tarfile."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any


def add_file(tar: tarfile.TarFile, name: str, data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    info = tarfile.TarInfo(name)
    info.size = len(raw)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(raw))


def add_special(tar: tarfile.TarFile, name: str, kind: bytes, linkname: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    tar.addfile(info)


def add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def write_tar(path: Path, files: dict[str, bytes | str], mode: str = "w:gz") -> Path:
    """Write `files` (member name -> content) as an archive at `path`."""
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for name, data in files.items():
            add_file(tar, name, data)
    return path


def tar_dir(path: Path, root: Path, mode: str = "w:gz") -> Path:
    """Archive the directory `root` (symlinks stored as symlinks) under its own name."""
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        tar.add(root, arcname=root.name)
    return path


def write_dir(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def collector_files(top: str = "netsnap-node1-20261126T100000Z") -> dict[str, bytes | str]:
    """A small collector bundle: a few sources with every manifest status."""
    route_n = (
        "Kernel IP routing table\n"
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
        "0.0.0.0         172.16.0.1      0.0.0.0         UG    100    0        0 eth0\n"
    )
    journal = "2026-11-26T10:00:00+0000 node1 flanneld[99]: I1126 main.go:1] Using 172.16.0.4 as external interface\n"
    dmesg_part = "[  1.000000] Linux version 5.14\n"
    entries: list[dict[str, Any]] = [
        {"id": "hostname", "path": "identity/hostname", "command": "hostname", "status": "ok", "exit_code": 0,
         "duration_ms": 1, "size": 6, "sha256": sha("node1\n"), "truncated": False, "timed_out": False,
         "redacted": 0},
        {"id": "route_n", "path": "routes/route-n", "command": "route -n", "status": "ok", "exit_code": 0,
         "duration_ms": 3, "size": len(route_n), "sha256": sha(route_n), "truncated": False, "timed_out": False,
         "redacted": 0},
        {"id": "iptables_save", "path": "firewall/iptables-save", "command": "iptables-save -c",
         "status": "command-missing", "exit_code": 127, "duration_ms": 0, "size": 0, "sha256": None,
         "truncated": False, "timed_out": False, "redacted": 0},
        {"id": "flannel_journal", "path": "flannel/journal", "command": "journalctl -u flanneld -o short-iso",
         "status": "truncated", "exit_code": 0, "duration_ms": 40, "size": len(journal), "sha256": sha(journal),
         "truncated": True, "timed_out": False, "redacted": 2},
        {"id": "dmesg", "path": "kernel/dmesg", "command": "dmesg", "status": "timed-out", "exit_code": 124,
         "duration_ms": 10000, "size": len(dmesg_part), "sha256": sha(dmesg_part), "truncated": False,
         "timed_out": True, "redacted": 0},
        {"id": "ip_rule", "path": "routes/ip-rule", "command": "ip rule", "status": "failed", "exit_code": 1,
         "duration_ms": 2, "size": 0, "sha256": None, "truncated": False, "timed_out": False, "redacted": 0},
        {"id": "ipset", "path": "firewall/ipset-save", "command": "ipset save", "status": "empty", "exit_code": 0,
         "duration_ms": 2, "size": 0, "sha256": sha(""), "truncated": False, "timed_out": False, "redacted": 0},
        {"id": "net_conf", "path": "flannel/net-conf.json", "command": "/etc/kube-flannel/net-conf.json",
         "status": "absent", "exit_code": None, "duration_ms": 0, "size": 0, "sha256": None, "truncated": False,
         "timed_out": False, "redacted": 0},
    ]
    manifest = {
        "format": "netsnap-bundle/1", "collector_version": "0.1.0", "collected_at": "2026-11-26T10:00:00Z",
        "hostname": "node1", "sysroot": "/", "redactions": 2, "sources": entries,
    }
    files: dict[str, bytes | str] = {
        "manifest.json": json.dumps(manifest, indent=1),
        "identity/hostname": "node1\n",
        "routes/route-n": route_n,
        "flannel/journal": journal,
        "kernel/dmesg": dmesg_part,
        "firewall/ipset-save": "",
    }
    return {f"{top}/{name}": data for name, data in files.items()} if top else files
