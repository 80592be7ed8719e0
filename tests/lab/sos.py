"""The real `sos report` and the real collector, run inside the lab's host namespaces.

Each lab host gets one shell in its network namespace (`ip netns exec`) with a private mount and UTS
namespace (`unshare --mount --uts --propagation private`): there a tmpfs over /run hides every other
namespace of the machine (`ip netns` then lists only the host's own pod namespace, bound back in as
/run/netns/c-<host>) and holds flanneld's /run/flannel/subnet.env; a tmpfs over /etc/modprobe.d holds
the host's vxlan module option, and an empty one hides the machine's /etc/firewalld (lab hosts run none).
The collector runs first (no --sysroot: it sees exactly what sos sees), then `sos report --batch` with only
the plugins netsnap reads.

sos is kept off the network and away from the machine's own settings: it reads our configuration
file (`--config-file`, empty: no upload target, no plugin options such as networking's traceroute),
is never given `--upload`, and writes only into the capture directory (`--tmp-dir`). On this kernel
netfilter is built in (no /proc/modules, lsmod fails), so sos would skip every iptables command
("required kmods missing"); `allow_changes=True` passes `--allow-system-changes`, which here can load
nothing, so that sos lists the tables as it does on a host whose modules are loaded.

The sos run is the installed `sos` unless NETSNAP_SOS names another command line, e.g. a release's source
tree run by the system python: `NETSNAP_SOS="/usr/bin/python3 /tmp/sos412/bin/sos"` (the tree from
`git archive 4.12.0 bin sos`). sos's bin/sos imports `sos` from the current directory, so when the command's
last word is such a tree's bin/sos, that tree is put first on PYTHONPATH (otherwise the installed release's
package would be imported under the tree's launcher).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from netsnap.bundle.sos_doc import sos_plugins as doc_plugins
from tests.lab.cluster import COLLECTOR, FlannelLab, LabHost
from tests.rules.lab_helpers import subnet_env

SOS_CONFIG = "[global]\n[report]\n[collect]\n[clean]\n[plugin_options]\n"
VXLAN_CONF = "# the lab's VXLAN port, stated as an administrator would\noptions vxlan udp_port=8472\n"


Sos = tuple[str, ...]  # a sos command line, e.g. ("sos",) or ("/usr/bin/python3", "/tmp/sos412/bin/sos")


def sos_command() -> Sos:
    """The sos command line to run (NETSNAP_SOS, split as a shell would; default the installed `sos`)."""
    return tuple(shlex.split(os.environ.get("NETSNAP_SOS", ""))) or ("sos",)


def sos_env(sos: Sos) -> dict[str, str]:
    """The environment `sos` runs with: ours, plus PYTHONPATH naming the source tree when it runs one."""
    env = dict(os.environ)
    launcher = Path(sos[-1])
    tree = launcher.resolve().parent.parent
    if launcher.name == "sos" and launcher.parent.name == "bin" and (tree / "sos" / "__init__.py").is_file():
        env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    return env


def skip_reason(sos: Sos | None = None) -> str | None:
    """Why the real sos cannot run here (None: it can)."""
    sos = sos or sos_command()
    if shutil.which(sos[0]) is None:
        return f"{sos[0]} is not installed (Debian package sosreport, or set NETSNAP_SOS)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    if not sos_version(sos):
        return f"`{shlex.join(sos)} report --list-plugins` does not print a sos version"
    return None


@lru_cache(maxsize=4)
def sos_version(sos: Sos | None = None) -> str:
    """The release of that sos ("4.0", "4.12.0"), from `sos report --list-plugins`' banner."""
    m = re.search(r"\(version ([0-9][\w.-]*)\)", _plugin_listing(sos or sos_command()))
    return m.group(1) if m else ""


@lru_cache(maxsize=4)
def _plugin_listing(sos: Sos) -> str:
    res = subprocess.run([*sos, "report", "--list-plugins", "--batch"], capture_output=True, text=True,
                         timeout=120, env=sos_env(sos), cwd="/")
    return res.stdout


@lru_cache(maxsize=4)
def sos_plugins(sos: Sos | None = None) -> tuple[str, ...]:
    """The plugins of the command line docs/sosreport.md gives for that release (on Debian: its classes).
    Raises RuntimeError when that sos lacks one: sos would refuse the command line."""
    sos = sos or sos_command()
    wanted = sorted(doc_plugins(sos_version(sos), debian=Path("/etc/debian_version").exists()))
    listed = set(re.findall(r"^ (\w+) {2,}", _plugin_listing(sos), re.M))
    if not set(wanted) <= listed:
        missing = sorted(set(wanted) - listed)
        raise RuntimeError(f"sos {sos_version(sos)} has no plugin {missing}: docs/sosreport.md is wrong")
    return tuple(wanted)


@dataclass(frozen=True)
class Capture:
    """One lab host's two bundles of the same moment: the collector's and the real sosreport."""

    host: str
    collector: str
    sosreport: str


def _script(fl: FlannelLab, host: LabHost, work: Path, allow_changes: bool, vxlan_conf: str, sos_cmd: Sos) -> str:
    q = shlex.quote
    pod_ns = fl.lab.ns(f"c-{host.name}")
    sos = [*sos_cmd, "report", "--batch", "--config-file", str(work / "sos.conf"), "--tmp-dir", str(work / "sos"),
           "--label", "lab", "-z", "gzip", "-o", ",".join(sos_plugins(sos_cmd))]
    if allow_changes:
        sos.append("--allow-system-changes")
    return "\n".join([
        "set -e",
        f"hostname {q(host.name)}",
        f": > {q(str(work / 'podns'))}",
        f"mount --bind /run/netns/{q(pod_ns)} {q(str(work / 'podns'))}",
        "mount -t tmpfs -o mode=755 netsnap-lab /run",
        "mkdir -p /run/netns /run/flannel",
        f": > /run/netns/c-{host.name}",
        f"mount --bind {q(str(work / 'podns'))} /run/netns/c-{host.name}",
        f"printf '%s' {q(subnet_env(host))} > /run/flannel/subnet.env",
        "mount -t tmpfs -o mode=755 netsnap-lab /etc/modprobe.d",
        # the lab's hosts run no firewalld: the machine's own package config (installed for the firewalld
        # tests) is hidden, as it would be on a host without it (sos 4.0's firewalld plugin is Red Hat only)
        "if [ -d /etc/firewalld ]; then mount -t tmpfs -o mode=755 netsnap-lab /etc/firewalld; fi",
        f"printf '%s' {q(vxlan_conf)} > /etc/modprobe.d/vxlan.conf",
        f"sh {q(str(COLLECTOR))} --output {q(str(work / 'collector'))} --timeout 5 | tail -n 1 > "
        f"{q(str(work / 'collector.path'))}",
        " ".join(q(a) for a in sos) + f" > {q(str(work / 'sos.out'))} 2>&1",
    ])


def capture(fl: FlannelLab, out: Path, *, allow_changes: bool = True, names: list[str] | None = None,
            vxlan_conf: str = VXLAN_CONF, timeout: float = 240, sos: Sos | None = None) -> dict[str, Capture]:
    """Run the collector and then `sos report` (`sos`, default sos_command()) in every lab host (hosts in
    parallel); {host: Capture}. Raises RuntimeError naming the host and the output when either tool fails."""
    sos = sos or sos_command()
    procs = []
    for h in fl.hosts:
        if names is not None and h.name not in names:
            continue
        work = out / h.name
        for sub in ("collector", "sos"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        (work / "sos.conf").write_text(SOS_CONFIG)
        cmd = ["ip", "netns", "exec", fl.lab.ns(h.name), "unshare", "--mount", "--uts", "--propagation", "private",
               "sh", "-c", _script(fl, h, work, allow_changes, vxlan_conf, sos)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sos_env(sos),
                                cwd="/")
        procs.append((h, work, proc))
    found: dict[str, Capture] = {}
    for h, work, proc in procs:
        _, stderr = proc.communicate(timeout=timeout)
        sos_out = (work / "sos.out").read_text() if (work / "sos.out").exists() else ""
        archives = sorted((work / "sos").glob("sosreport-*.tar.gz"))
        collected = (work / "collector.path").read_text().strip() if (work / "collector.path").exists() else ""
        if proc.returncode != 0 or len(archives) != 1 or not collected:
            raise RuntimeError(f"capture failed on {h.name} (exit {proc.returncode}): {stderr.strip()} "
                               f"{sos_out[-2000:]}")
        found[h.name] = Capture(h.name, collected, str(archives[0]))
    return found
