"""A reusable network-namespace lab: named namespaces, veth links between them, commands inside.

Everything lives in namespaces this object created (unique names carry the pid), nothing touches
the root namespace, and `close()` deletes every namespace even when a test failed midway:

    with NetnsLab() as lab:
        lab.add("fabric"); lab.add("a")
        lab.sh("fabric", "ip link add br0 type bridge && ip link set br0 up")
        lab.veth("a", "eth0", "fabric", "pa", master="br0")
        lab.sh("a", "ip addr add 10.0.0.1/24 dev eth0")
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from types import TracebackType

_counter = itertools.count()


def skip_reason() -> str | None:
    """Why namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "network-namespace lab needs root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"nsprobe{os.getpid()}x{next(_counter)}"
    res = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if res.returncode != 0:
        return f"cannot create a network namespace: {res.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class LabError(RuntimeError):
    """A lab command failed; the message holds the namespace, the command and its stderr."""


class NetnsLab:
    """Namespaces named `<prefix>-<name>`; `sh(name, script)` runs a shell script inside one."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"nl{os.getpid()}x{next(_counter)}"
        self.names: dict[str, str] = {}
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> NetnsLab:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ns(self, name: str) -> str:
        """The real namespace name of lab name `name`."""
        return self.names[name]

    def add(self, name: str) -> str:
        full = f"{self.prefix}-{name}"
        subprocess.run(["ip", "netns", "add", full], check=True, capture_output=True)
        self.names[name] = full
        self.sh(name, "ip link set lo up")
        return full

    def sh(self, name: str, script: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(["ip", "netns", "exec", self.names[name], "sh", "-ec", script],
                             capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise LabError(f"[{name}] {script!r} failed ({res.returncode}): {res.stderr.strip()}")
        return res

    def veth(self, a: str, a_if: str, b: str, b_if: str, master: str | None = None, mtu: int | None = None) -> None:
        """A veth pair: `a_if` in namespace a, `b_if` in b (optionally enslaved to bridge `master` in b)."""
        self.sh(a, f"ip link add {a_if} type veth peer name {b_if} netns {self.names[b]}")
        mtu_opt = f" mtu {mtu}" if mtu else ""
        self.sh(a, f"ip link set {a_if}{mtu_opt} up")
        self.sh(b, (f"ip link set {b_if} master {master} && " if master else "") + f"ip link set {b_if} up")

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a long-running process (a listener) inside a namespace; close() kills it by its pid."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.names[name], *argv],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(timeout=10)
        self.procs.clear()
        for full in reversed(list(self.names.values())):
            subprocess.run(["ip", "netns", "del", full], capture_output=True)
        self.names.clear()
