"""Real firewalld inside a lab namespace: its own D-Bus system bus, /etc/firewalld and /var/log.

firewalld needs the system bus (`/run/dbus/system_bus_socket`) and writes its configuration under
/etc/firewalld. Each instance runs in a private mount namespace (`unshare -m`, mounts private) inside
the lab host's network namespace, with tmpfs on /run/dbus and /var/log and a copy of the host's
/etc/firewalld bound over it, so nothing outside the namespace changes. `cmd()` runs `firewall-cmd`
in the same namespaces; `exec_argv()` prefixes any command (the collector) the same way.

    fw = Firewalld(lab, "node1", tmp_path / "fw-node1").start()
    fw.cmd("--zone=public", "--add-interface=eth1")
    ...
    fw.stop()   # also done by the lab's close(): both processes are killed by pid

Observed with Debian 12's firewalld 1.3.3 and nftables 1.0.6 (python3-nftables backend).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.lab.netns import NetnsLab

FIREWALLD = "/usr/sbin/firewalld"
CONF_DIR = Path("/etc/firewalld")


def skip_reason() -> str | None:
    """Why firewalld cannot run in a namespace here, or None."""
    for tool in (FIREWALLD, "/usr/bin/firewall-cmd", "/usr/bin/dbus-daemon", "/usr/bin/unshare", "/usr/bin/nsenter"):
        if not Path(tool).exists():
            return f"{tool} is not installed (apt-get install firewalld)"
    if not CONF_DIR.is_dir():
        return f"{CONF_DIR} does not exist"
    return None


_SCRIPT = """set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run/dbus
mount -t tmpfs tmpfs /var/log
mount --bind {etc} /etc/firewalld
dbus-daemon --system --nofork --nopidfile &
echo $! > {work}/dbus.pid
for i in $(seq 50); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
exec {firewalld} --nofork --nopid
"""


class Firewalld:
    """One firewalld daemon in lab host `host`'s network namespace."""

    def __init__(self, lab: NetnsLab, host: str, work: Path, conf: dict[str, str] | None = None) -> None:
        self.lab = lab
        self.host = host
        self.work = work
        self.conf = conf or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def etc(self) -> Path:
        return self.work / "etc-firewalld"

    def start(self, timeout: float = 30) -> Firewalld:
        self.work.mkdir(parents=True, exist_ok=True)
        if self.etc.exists():
            shutil.rmtree(self.etc)
        shutil.copytree(CONF_DIR, self.etc, symlinks=True)
        conf = self.etc / "firewalld.conf"
        lines = conf.read_text().splitlines()
        for key, value in self.conf.items():
            lines = [ln for ln in lines if not ln.startswith(f"{key}=")] + [f"{key}={value}"]
        conf.write_text("\n".join(lines) + "\n")
        script = _SCRIPT.format(etc=self.etc, work=self.work, firewalld=FIREWALLD)
        (self.work / "start.sh").write_text(script)
        self.proc = self.lab.spawn(self.host, ["unshare", "-m", "sh", str(self.work / "start.sh")])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"firewalld on {self.host} exited with {self.proc.returncode}")
            res = self.cmd("--state", check=False)
            if res.stdout.strip() == "running":
                return self
            time.sleep(0.3)
        raise RuntimeError(f"firewalld on {self.host} did not come up in {timeout}s")

    def exec_argv(self, argv: list[str]) -> list[str]:
        """`argv` run inside this firewalld's mount and network namespaces."""
        assert self.proc is not None, "start() first"
        return ["nsenter", "-t", str(self.proc.pid), "-m", "-n", *argv]

    def cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(self.exec_argv(["firewall-cmd", *args]), capture_output=True, text=True, timeout=60)
        if check and res.returncode != 0:
            raise RuntimeError(f"[{self.host}] firewall-cmd {' '.join(args)} failed ({res.returncode}): "
                               f"{res.stderr.strip() or res.stdout.strip()}")
        return res

    def stop(self) -> None:
        pid_file = self.work / "dbus.pid"
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().strip())
            except ValueError:
                pid = 0
            if pid > 1:
                subprocess.run(["kill", str(pid)], capture_output=True)
            pid_file.unlink()
