"""The flanneld flags netsnap knows, with their Go types (flannel.md §1.2) and FLANNELD_* names (§1.3)."""

from __future__ import annotations

from typing import Literal

FlagType = Literal["string", "bool", "int", "slice"]

# Current main.go flags, klog/glog flags flanneld copies into its flag set, and v0.5–v0.7 legacy flags.
KNOWN_FLAGS: dict[str, FlagType] = {
    "iface": "slice",
    "iface-regex": "slice",
    "iface-can-reach": "string",
    "public-ip": "string",
    "public-ipv6": "string",
    "etcd-endpoints": "string",
    "etcd-prefix": "string",
    "etcd-keyfile": "string",
    "etcd-certfile": "string",
    "etcd-cafile": "string",
    "etcd-username": "string",
    "etcd-password": "string",
    "kube-subnet-mgr": "bool",
    "kube-api-url": "string",
    "kubeconfig-file": "string",
    "kube-annotation-prefix": "string",
    "net-config-path": "string",
    "subnet-file": "string",
    "ip-masq": "bool",
    "ip-masq-fully-random-disable": "bool",
    "iptables-forward-rules": "bool",
    "iptables-resync": "int",
    "subnet-lease-renew-margin": "int",
    "healthz-ip": "string",
    "healthz-port": "int",
    "ip-blackhole-route": "bool",
    "set-node-network-unavailable": "bool",
    "version": "bool",
    # klog / glog
    "v": "int",
    "vmodule": "string",
    "log_backtrace_at": "string",
    "logtostderr": "bool",
    "alsologtostderr": "bool",
    "stderrthreshold": "string",
    "log_dir": "string",
    # legacy (v0.5–v0.7)
    "networks": "string",
    "subnet-dir": "string",
    "listen": "string",
    "remote": "string",
    "remote-keyfile": "string",
    "remote-certfile": "string",
    "remote-cafile": "string",
}

DEFAULT_ETCD_PREFIX = "/coreos.com/network"
RPM_ETCD_PREFIX = "/atomic.io/network"

_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def env_name(flag: str) -> str:
    """The FLANNELD_* variable that sets `flag` (upper case, `-` and `.` become `_`)."""
    return "FLANNELD_" + flag.upper().replace("-", "_").replace(".", "_")


ENV_TO_FLAG: dict[str, str] = {env_name(f): f for f in KNOWN_FLAGS}


def go_bool(value: str) -> bool | None:
    """strconv.ParseBool: the accepted spellings, None for anything else."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


def go_int(value: str) -> int | None:
    """strconv.ParseInt(value, 0, 64) closely enough: decimal, 0x, 0o/0 and 0b prefixes, a sign."""
    text = value.strip()
    if not text or "_" in text or text != value:
        return None
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    try:
        if len(body) > 1 and body[0] == "0" and body[1].isdigit():
            return sign * int(body[1:], 8)
        return sign * int(body, 0)
    except ValueError:
        return None
