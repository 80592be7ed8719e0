"""Lab bundles as a flannel host really has them: the namespace lab (tests/lab) installs what flanneld
installs in the kernel (VXLAN device, routes, neighbours, fdb) but not the file flanneld writes,
/run/flannel/subnet.env. Without it a bundle carries no FLANNEL_NETWORK and netsnap can only infer the pod
network from the kernel state; a real flannel host always has the file.

`collect_flannel_hosts` runs the real collector in each lab host namespace exactly like
`FlannelLab.collect`, plus `--sysroot` pointing at a directory that holds that subnet.env (commands still
run live in the namespace; only files are read under the sysroot). `bundle_line` reads a line back from
a collected tarball so evidence can be checked against the real file.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from tests.lab.cluster import COLLECTOR, FlannelLab, LabHost

POD_NETWORK = "10.244.0.0/16"
OVERLAY_MTU = 1450  # the lab's flannel.1 and cni0


def subnet_env(host: LabHost, network: str = POD_NETWORK, mtu: int = OVERLAY_MTU) -> str:
    """What flanneld writes for a lab host: the cluster network, its lease (gateway address), MTU, masquerade."""
    return (f"FLANNEL_NETWORK={network}\nFLANNEL_SUBNET=10.244.{host.index}.1/24\n"
            f"FLANNEL_MTU={mtu}\nFLANNEL_IPMASQ=true\n")


def write_sysroot(root: Path, host: LabHost) -> Path:
    """Create `root/run/flannel/subnet.env` for `host`; returns `root`."""
    env = root / "run" / "flannel" / "subnet.env"
    env.parent.mkdir(parents=True, exist_ok=True)
    env.write_text(subnet_env(host))
    return root


def collect_flannel_hosts(fl: FlannelLab, out: Path, timeout: float = 120) -> dict[str, str]:
    """Run the collector in every lab host namespace (in parallel) with flanneld's subnet.env under
    `--sysroot`; returns {host name: bundle path}. Raises RuntimeError naming the host when one fails."""
    procs = []
    for h in fl.hosts:
        root = write_sysroot(out / "sysroot" / h.name, h)
        dest = out / "bundles" / h.name
        dest.mkdir(parents=True, exist_ok=True)
        cmd = ["ip", "netns", "exec", fl.lab.ns(h.name), "unshare", "--uts", "sh", "-c",
               f"hostname {h.name} && sh {COLLECTOR} --output {dest} --timeout 5 --sysroot {root}"]
        procs.append((h.name, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    paths: dict[str, str] = {}
    for name, proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        if proc.returncode != 0 or not stdout.strip():
            raise RuntimeError(f"collector failed on {name} (exit {proc.returncode}): {stderr.strip()}")
        paths[name] = stdout.strip().splitlines()[-1]
    return paths


def bundle_line(bundle: str, file: str, line: int) -> str:
    """Line `line` (1-based) of `file` (a bundle-relative path such as firewall/iptables-save) in the
    collected tarball `bundle`. Raises LookupError when the file or the line is not there."""
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.split("/", 1)[-1] == file:
                fh = tar.extractfile(member)
                if fh is None:
                    break
                lines = fh.read().decode("utf-8", errors="replace").splitlines()
                if not 1 <= line <= len(lines):
                    raise LookupError(f"{bundle}: {file} has {len(lines)} lines, no line {line}")
                return lines[line - 1]
    raise LookupError(f"{bundle}: no file {file}")
