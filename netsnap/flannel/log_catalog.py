"""flanneld's log messages (flannel.md §7.5): classify one message into a FlannelEvent kind and fields.

`classify(message, level)` returns (kind, fields, version hint). Patterns match the message text,
never the klog `file:line`, because line numbers drift between releases. Errors get `error_class`,
a short label for rules (`etcd-unavailable`, `tls`, `lease`, `no-interface`, `incompatible-addresses`,
`pod-cidr`, `net-config`, `br-netfilter`, `iptables`, `permission`, `mac-changed`, `route`, `other`),
`chain` (the whole message) and `root` (its last `: `-separated part, the innermost error).
The `CLI flags config: {...}` line is broken into fields with `etcdPassword` always redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from netsnap.model.flannel import FlannelEventKind

REDACTED = "***REDACTED***"
Fields = dict[str, str]
Handler = Callable[[re.Match[str]], Fields]

_IP = r"([0-9A-Fa-f:.]+)"


def _groups(*names: str) -> Handler:
    def handler(m: re.Match[str]) -> Fields:
        return {n: g for n, g in zip(names, m.groups(), strict=False) if n and g is not None}
    return handler


def _cli_flags(m: re.Match[str]) -> Fields:
    body = m.group(1)
    keys = list(_CLI_KEY.finditer(body))
    fields: Fields = {}
    for i, km in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(body)
        value = body[km.end():end].strip()
        fields[km.group(1)] = REDACTED if km.group(1) == "etcdPassword" and value else value
    return fields


_SUBNET_EVENT_FIELDS = tuple((k, re.compile(p)) for k, p in (
    ("public_ip", r"PublicIP: ([0-9.]+)"), ("subnet", r"Subnet: ([0-9./]+)"),
    ("vtep_mac", r'"VtepMAC":"([0-9A-Fa-f:]+)"'), ("vni", r'"VNI":([0-9]+)'),
    ("backend_type", r"BackendType: ([a-z-]+)")))
_CLI_KEY = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9]*):")


def _subnet_event(m: re.Match[str]) -> Fields:
    text = m.group(1)
    fields: Fields = {}
    for key, pat in _SUBNET_EVENT_FIELDS:
        found = pat.search(text)
        if found:
            fields[key] = found.group(1)
    return fields


def _vxlan(m: re.Match[str]) -> Fields:
    fields = {"vni": m.group(1), "port": m.group(2), "gbp": m.group(3).lower(), "direct_routing": m.group(5).lower()}
    if m.group(4) is not None:
        fields["learning"] = m.group(4).lower()
    return fields


# (substring that must occur, pattern, kind, fields handler, version hint)
_CATALOG: list[tuple[str, re.Pattern[str], FlannelEventKind, Handler, str | None]] = [
    ("Using interface with name", re.compile(r"Using interface with name (\S+) and v6 address (\S+)"),
     "iface-chosen", _groups("iface", "address6"), ">=v0.15.0"),
    ("Using interface with name", re.compile(r"Using interface with name (\S+) and address " + _IP),
     "iface-chosen", _groups("iface", "address"), ">=v0.7.0"),
    ("will be used by flannel",
     re.compile(r"The interface (\S+) with ipv4 address " + _IP + r" will be used by flannel"),
     "iface-chosen", _groups("iface", "address"), "k3s"),
    ("as external interface", re.compile(r"Using " + _IP + r" as external interface"),
     "iface-chosen", _groups("address"), "<=v0.6.2"),
    ("as external endpoint", re.compile(r"Using " + _IP + r" as external endpoint"),
     "external-address", _groups("address"), "v0.5.2-v0.6.2"),
    ("as external address", re.compile(r"Using " + _IP + r" as external address"),
     "external-address", _groups("address"), ">=v0.7.0"),
    ("Defaulting external address", re.compile(r"Defaulting external address to interface address \(" + _IP + r"\)"),
     "external-address", lambda m: {"address": m.group(1), "defaulted": "true"}, ">=v0.7.0"),
    ("Overriding public ip", re.compile(r"Overriding public ip with '([^']*)' from node annotation '([^']*)'"),
     "external-address", _groups("address", "annotation"), ">=v0.10.0"),
    ("Determining IP address of default interface", re.compile(r"Determining IP address of default interface"),
     "iface-auto", _groups(), None),
    ("Searching for interface using", re.compile(r"Searching for interface using (\S+)"),
     "iface-search", _groups("candidate"), ">=v0.7.0"),
    ("ifcanreach", re.compile(r"Determining interface to use based on given ifcanreach: (\S+)"),
     "iface-search", _groups("can_reach"), ">=v0.18.0"),
    ("Could not find valid interface matching", re.compile(r"Could not find valid interface matching (\S+): (.*)"),
     "iface-candidate-failed", _groups("candidate", "error"), ">=v0.8.0"),
    ("CLI flags config:", re.compile(r"CLI flags config: \{(.*)\}\s*$"), "cli-flags", _cli_flags, ">=v0.15.0"),
    ("Found network config - Backend type", re.compile(r"Found network config - Backend type: (\S+)"),
     "backend", _groups("backend_type"), ">=v0.8.0"),
    ("Starting flannel with backend", re.compile(r"Starting flannel with backend (\S+)"),
     "backend", _groups("backend_type"), "k3s"),
    ("mac address set to", re.compile(r"Interface (\S+) mac address set to: (\S+)"),
     "backend", _groups("device", "mac"), ">=v0.25.2"),
    ("VXLAN config:",
     re.compile(r"VXLAN config: VNI=(\d+) Port=(\d+) GBP=(\w+)(?: Learning=(\w+))? DirectRouting=(\w+)"),
     "vxlan-config", _vxlan, None),
    ("ubnet lease acquired", re.compile(r"Subnet lease acquired: (\S+)"), "lease", _groups("subnet"), "<=v0.5.5"),
    ("ease acquired", re.compile(r"[Ll]ease acquired: (\S+)"), "lease", _groups("subnet"), "v0.5.6-v0.7.1"),
    ("for current IP", re.compile(r"Found lease \((\S+)\) for current IP \(" + _IP + r"\), reusing"),
     "lease", _groups("subnet", "address"), None),
    ("Found previously leased subnet", re.compile(r"Found previously leased subnet \((\S+)\), reusing"),
     "lease", _groups("subnet"), ">=v0.8.0"),
    ("Allocated lease", re.compile(r"Allocated lease \((\S+)\) to current node \(" + _IP + r"\)"),
     "lease", _groups("subnet", "address"), ">=v0.8.0"),
    ("Picking subnet in range", re.compile(r"Picking subnet in range (\S+) \.\.\. (\S+)"),
     "lease", _groups("range_start", "range_end"), None),
    ("Lease renewed", re.compile(r"Lease renewed, new expiration: (.*)"), "lease", _groups("expiration"), None),
    ("Wrote ", re.compile(r"Wrote (?:flannel )?subnet file to (\S+)"), "subnet-file", _groups("path"), None),
    ("Subnet added:", re.compile(r"Subnet added: (\S+?)(?: via (\S+))?$"), "subnet-added", _groups("subnet", "via"),
     None),
    ("Subnet removed:", re.compile(r"Subnet removed: (\S+)"), "subnet-removed", _groups("subnet"), None),
    ("adding subnet:", re.compile(r"adding subnet: (\S+) PublicIP: (\S+) VtepMAC: (\S+)"),
     "peer-event", _groups("subnet", "public_ip", "vtep_mac"), None),
    ("Received Subnet Event with VxLan", re.compile(r"Received Subnet Event with VxLan: (.*)"),
     "peer-event", _subnet_event, ">=v0.25.1"),
    ("with incompat", re.compile(r"\"?(\S+?)\"? already exists with incompat(a|i)ble configuration: (.*)"),
     "incompatible-device", lambda m: {"device": m.group(1), "detail": m.group(3)}, None),
    ("Failed to ensure iptables rules", re.compile(r"Failed to ensure iptables rules: (.*)"),
     "error", lambda m: {"error_class": "iptables"}, None),
    ("Adding iptables rule", re.compile(r"Adding iptables rule: (.*)"), "iptables", _groups("rule"), "<=v0.18.1"),
    ("Setting up masking rules", re.compile(r"Setting up masking rules"), "iptables", _groups(), ">=v0.12.0"),
    ("FORWARD chain policy", re.compile(r"Changing default FORWARD chain policy to ACCEPT"), "iptables", _groups(),
     ">=v0.12.0"),
    ("iptables rules are missing", re.compile(r"Some iptables rules are missing"), "iptables", _groups(), None),
    ("in iptables mode", re.compile(r"Starting flannel in iptables mode"), "iptables", _groups(), ">=v0.25.0"),
    ("Installing signal handlers", re.compile(r"Installing signal handlers"), "start", _groups(), None),
    ("Created subnet manager", re.compile(r"Created subnet manager: (.*)"), "start", _groups("subnet_manager"),
     ">=v0.8.0"),
    ("Running backend", re.compile(r"Running backend\."), "start", _groups(), ">=v0.9.0"),
    ("Running flannel backend", re.compile(r"Running flannel backend"), "start", _groups(), "k3s"),
    ("flannel is ready", re.compile(r"flannel is ready"), "start", _groups(), ">=v0.28.9"),
    ("bootstrap done", re.compile(r"bootstrap done"), "start", _groups(), ">=v0.19.0"),
]

_ERROR_WORDS = ("Error registering network", "Couldn't fetch network config", "ailed to retrieve network config",
                "Failed to find any valid interface", "Failed to find interface to use",
                "Failed to create SubnetManager",
                "Failed to check br_netfilter", "failed to acquire lease", "failed to add vxlanRoute",
                "Error adding route", "AddFDB failed", "AddARP failed", "failed to register network",
                "Failed to determine MTU", "Lease has been revoked", "etcd cluster is unavailable")

_ERROR_CLASSES: list[tuple[str, tuple[str, ...]]] = [
    ("br-netfilter", ("br_netfilter", "bridge-nf-call-iptables")),
    ("tls", ("x509", "tls:", "certificate")),
    ("net-config", ("Key not found", "config not found in etcd", "failed to read net conf",
                    "error parsing subnet config")),
    ("etcd-unavailable", ("etcd cluster is unavailable", "connection refused", "context deadline exceeded")),
    ("pod-cidr", ("pod cidr not assigned", "PodCIDR of the")),
    ("incompatible-addresses", ("incompatible addresses",)),
    ("no-interface", ("could not determine interface", "unable to find default route", "valid interface",
                      "failed to find IPv4 address", "Failed to find interface", "could not match pattern")),
    ("mac-changed", ("mac address wanted",)),
    ("lease", ("out of subnets", "failed to acquire lease", "Lease has been revoked", "lease")),
    ("iptables", ("iptables",)),
    ("permission", ("operation not permitted",)),
    ("route", ("vxlanRoute", "Error adding route", "AddFDB", "AddARP")),
]

_ERROR_HINTS: list[tuple[str, str]] = [
    ("link has incompatible addresses", "v0.9.0-v0.13.1"),
    ("config not found in etcd store", ">=v0.19.0"),
    ("Failed to check br_netfilter", ">=v0.26.0"),
    ("mac address wanted", ">=v0.22.3"),
    ("doesn't contain", ">=v0.18.0"),
    ("Key not found (", "<=v0.17"),
    ("failed to retrieve network config", "v0.6-v0.7"),
    ("Failed to retrieve network config", "v0.5"),
]


def error_class(message: str) -> str:
    """The short class of an error chain (see the module docstring)."""
    for cls, words in _ERROR_CLASSES:
        if any(w in message for w in words):
            return cls
    # "Couldn't fetch network config" with no etcd/TLS root cause recognised above
    if "network config" in message:
        return "net-config"
    return "other"


def classify(message: str, level: str) -> tuple[FlannelEventKind, Fields, str | None]:
    """(kind, fields, version hint) for one flanneld message; kind "other" if nothing matched."""
    for needle, pattern, kind, handler, hint in _CATALOG:
        if needle not in message:
            continue
        m = pattern.search(message)
        if m is None:
            continue
        fields = handler(m)
        if kind == "vxlan-config":
            hint = ">=v0.12.0" if "learning" in fields else "v0.9.0-v0.11.0"
        if kind == "error":
            fields.update(_error_fields(message))
        return kind, fields, hint
    if level in ("E", "F") or any(w in message for w in _ERROR_WORDS):
        hint = next((h for needle, h in _ERROR_HINTS if needle in message), None)
        return "error", _error_fields(message), hint
    return "other", {}, None


def _error_fields(message: str) -> Fields:
    return {"error_class": error_class(message), "chain": message, "root": message.rsplit(": ", 1)[-1]}


def file_hint(source_file: str | None) -> str | None:
    """Version family from the klog source file (flannel.md §7.4); line numbers are not trusted."""
    if not source_file:
        return None
    name = source_file.split(":", 1)[0].rsplit("/", 1)[-1]
    if name in ("manager.go", "network.go"):
        return "v0.6-v0.7"
    if name in ("local_manager.go", "kube.go"):
        return "v0.8-v0.13"
    if name in ("match.go", "vxlan_network.go", "iptables.go"):
        return "current"
    return None
