"""flanneld's log messages: classify one message into a FlannelEvent kind, fields and catalog id.

The catalog is flannel's own log statements (log_messages.py: one entry per statement and release
range, read from flannel's source v0.1.0..v0.28.9) plus systemd's messages about the unit, k3s's and
rkt's; each format string becomes one pattern (`%s`/`%v` -> a capture), so a message is classified by
the statement that printed it, never by a keyword it contains. `classify(message, level)` returns a
`Classified` (kind, fields, version hint, message id); `entry(id)` gives the statement's meaning,
severity and fix. The long-standing messages keep their field extractors (below: `iface`, `address`,
`subnet`, `vni`, ...); patterns match the message text, never the klog `file:line`.

Errors get `error_class` (`diagnose`): the cause the error chain names, from the innermost error
(log_messages.INNER) and which subnet manager it concerns (etcd or the Kubernetes API: the statement,
else the chain's words): `etcd-unavailable`, `kube-api-unavailable`, `tls`, `rbac`, `net-config`,
`pod-cidr`, `lease`, `incompatible-addresses`, `mac-changed`, `no-interface`, `device`, `br-netfilter`,
`iptables`, `permission`, `route`, `unit`, `other`; plus `chain` (the whole message) and `root` (its last
`: `-separated part). The `CLI flags config: {...}` line is broken into fields with `etcdPassword`
always redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from netsnap.flannel import log_messages
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

# the handled messages above -> their catalog id (log_messages.py)
_HANDLED_IDS: dict[str, str] = {
    "Using interface with name": "iface.chosen", "will be used by flannel": "k3s.iface",
    "as external interface": "iface.chosen-old", "as external endpoint": "iface.endpoint",
    "as external address": "iface.external", "Defaulting external address": "iface.defaulted",
    "Overriding public ip": "iface.annotation", "Determining IP address of default interface": "iface.auto",
    "Searching for interface using": "iface.search", "ifcanreach": "iface.can-reach",
    "Could not find valid interface matching": "iface.candidate-failed", "CLI flags config:": "start.cli-flags",
    "Found network config - Backend type": "config.found", "Starting flannel with backend": "k3s.backend",
    "mac address set to": "vxlan.mac", "VXLAN config:": "vxlan.config", "ubnet lease acquired": "lease.acquired-old",
    "ease acquired": "lease.acquired", "for current IP": "lease.found-ip",
    "Found previously leased subnet": "lease.found-previous", "Allocated lease": "lease.allocated",
    "Picking subnet in range": "lease.picking", "Lease renewed": "lease.renewed", "Wrote ": "lease.subnet-file",
    "Subnet added:": "udp.subnet-added", "Subnet removed:": "hostgw.subnet-removed", "adding subnet:": "vxlan.adding",
    "Received Subnet Event with VxLan": "vxlan.peer-event", "with incompat": "vxlan.incompatible",
    "Failed to ensure iptables rules": "ipt.ensure-failed", "Adding iptables rule": "ipt.adding",
    "Setting up masking rules": "ipt.masq", "FORWARD chain policy": "ipt.forward",
    "iptables rules are missing": "ipt.missing", "in iptables mode": "ipt.mode",
    "Installing signal handlers": "start.signals", "Created subnet manager": "start.subnet-manager",
    "Running backend": "start.backend-running", "Running flannel backend": "k3s.running",
    "flannel is ready": "start.ready", "bootstrap done": "ipt.bootstrap",
}


@dataclass(frozen=True)
class Entry:
    """One catalog statement: its id, level as logged, releases, format, pattern, kind, meaning and fix."""

    id: str
    level: str
    versions: str
    format: str
    pattern: re.Pattern[str]
    kind: FlannelEventKind
    meaning: str
    fix: str

    @property
    def severity(self) -> str:
        return {"E": "error", "F": "error", "W": "warning"}.get(self.level, "info")

    @property
    def origin(self) -> str:
        return self.versions if self.versions in ("systemd", "k3s", "rkt") else "flannel"


_VERB = re.compile(r"%[-+#0 ]*\d*(?:\.\d+)?[svqdwtxXfe]")


def pattern_of(fmt: str) -> re.Pattern[str]:
    """A Go format string as a pattern matching the whole message (`%d` digits, other verbs any text)."""
    parts = _VERB.split(fmt)
    verbs = _VERB.findall(fmt)
    last = len(verbs)
    out = [re.escape(parts[0] if last else parts[0].rstrip())]
    for i, (verb, literal) in enumerate(zip(verbs, parts[1:], strict=True), start=1):
        out.append(r"(-?\d+)" if verb.endswith("d") else (r"(.*)" if not literal.strip() else r"(.*?)"))
        out.append(re.escape(literal.rstrip() if i == last else literal))
    return re.compile("^" + "".join(out) + r"\s*$", re.DOTALL)


def _entries() -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for group in (log_messages.FLANNEL, log_messages.SYSTEMD, log_messages.K3S, log_messages.RKT):
        for mid, level, versions, fmt, kind, meaning, fix in group:
            out[mid] = Entry(mid, level, versions, fmt, pattern_of(fmt), kind, meaning, fix)  # type: ignore[arg-type]
    return out


ENTRIES: dict[str, Entry] = _entries()
_FIRST = re.compile(r"^[^%\s]+")
_BY_WORD: dict[str, list[Entry]] = {}
_LEADING_VERB: list[Entry] = []
# the most specific statement first: the one with the most literal text (`failed to %v: %v` last)
for _e in sorted(ENTRIES.values(), key=lambda e: -len(_VERB.sub("", e.format))):
    _m = _FIRST.match(_e.format)
    if _m is None:
        _LEADING_VERB.append(_e)
    else:
        _BY_WORD.setdefault(_m.group(0), []).append(_e)
# systemd prefixes most unit messages with `unit.service: ` (EL7: `unit.service ` without the colon)
_UNIT_PREFIX = re.compile(r"^[\w@.\\-]+\.(?:service|scope|socket|target)[: ]\s*")
_INNER = tuple((cause, re.compile(p)) for cause, p in log_messages.INNER)
_KUBE = re.compile(log_messages.KUBE_WORDS)
_ETCD = re.compile(log_messages.ETCD_WORDS)
_KUBE_SIDE = ("kube.", "lease.subnet-manager-failed")
_ETCD_SIDE = ("config.fetch-failed", "config.retrieve-failed", "lease.acquire-failed-old", "lease.renew-failed",
              "lease.watch", "lease.revoked")
# what an error statement is about when its chain names no known cause
_DEFAULT_CLASS: tuple[tuple[str, str], ...] = (
    ("iface.", "no-interface"), ("vxlan.route", "route"), ("vxlan.fdb", "route"), ("vxlan.arp", "route"),
    ("vxlan.del", "route"), ("hostgw.route", "route"), ("ipt.", "iptables"), ("nft.", "iptables"),
    ("brnf.", "br-netfilter"), ("lease.revoked", "lease"), ("lease.previous", "lease"), ("unit.", "unit"),
    ("config.", "net-config"), ("kube.", "kube-api-unavailable"), ("vxlan.", "device"),
)
_NETWORK = frozenset({"unreachable", "tls"})


def entry(message_id: str | None) -> Entry | None:
    """The catalog statement of an event's `message_id`."""
    return ENTRIES.get(message_id) if message_id else None


def lookup(message: str) -> tuple[Entry, tuple[str, ...]] | None:
    """The statement that printed `message` and its placeholders' values, or None."""
    text = message.strip()
    for candidate in (text, _UNIT_PREFIX.sub("", text, count=1)):
        first = candidate.split(" ", 1)[0]
        for e in _BY_WORD.get(first, ()):
            m = e.pattern.match(candidate)
            if m is not None:
                return e, m.groups()
        for e in _LEADING_VERB:
            m = e.pattern.match(candidate)
            if m is not None and all(g.strip() for g in m.groups()):
                return e, m.groups()
    return None


def side(message: str, message_id: str | None) -> str | None:
    """Which subnet manager an error is about: "kube", "etcd", or None when nothing tells."""
    if _KUBE.search(message):
        return "kube"
    if message_id and message_id.startswith(_KUBE_SIDE) and "etcd" not in message:
        return "kube"
    if _ETCD.search(message) or (message_id and message_id.startswith(_ETCD_SIDE)):
        return "etcd"
    return None


def diagnose(message: str, message_id: str | None) -> str:
    """The error class of an error message (see the module docstring)."""
    cause = next((c for c, pat in _INNER if pat.search(message)), None)
    if cause in _NETWORK:
        where = side(message, message_id)
        if cause == "tls":
            return "tls"
        return {"kube": "kube-api-unavailable", "etcd": "etcd-unavailable"}.get(where or "", "unreachable")
    if cause is not None:
        return {"config-missing": "net-config", "lease-space": "lease"}.get(cause, cause)
    if message_id:
        for prefix, cls in _DEFAULT_CLASS:
            if message_id.startswith(prefix):
                return cls
    if "network config" in message:
        return "net-config"
    return "other"


class Classified(NamedTuple):
    """`hint`: a version family the message pins down; `releases`: its statement's release range (a
    weaker hint than the klog header's source file or PID width)."""

    kind: FlannelEventKind
    fields: Fields
    hint: str | None
    message_id: str | None
    releases: str | None = None


def classify(message: str, level: str) -> Classified:
    """Kind, fields, version hint and catalog id of one flanneld (or systemd/k3s/rkt) message; kind
    "other" and id None when no statement printed it."""
    for needle, pattern, kind, handler, hint in _CATALOG:
        if needle not in message:
            continue
        m = pattern.search(message)
        if m is None:
            continue
        fields = handler(m)
        mid = _HANDLED_IDS.get(needle)
        if kind == "vxlan-config":
            hint = ">=v0.12.0" if "learning" in fields else "v0.9.0-v0.11.0"
            mid = "vxlan.config" if "learning" in fields else "vxlan.config-old"
        if mid == "vxlan.incompatible" and "incompatable" in message:
            mid = "vxlan.incompatable"
        if mid == "lease.found-ip" and "(ip: " in message:
            mid = "lease.found-ip-dual"
        if mid == "lease.acquired" and re.match(r"\S+: lease acquired", message):
            mid = "lease.acquired-named"
        if kind == "error":
            fields.update(_error_fields(message, mid))
        return Classified(kind, fields, hint, mid)
    found = lookup(message)
    if found is not None:
        e, _values = found
        is_error = e.severity == "error" or e.kind == "error" or (
            e.id.startswith("unit.") and e.level == "W" and not _clean_exit(message))
        fields = _error_fields(message, e.id) if is_error else {}
        # an error chain's inner text dates it more closely than its outer statement
        inner = next((h for needle, h in _ERROR_HINTS if needle in message), None) if is_error else None
        return Classified(e.kind, fields, inner, e.id, _hint(e))
    if level in ("E", "F"):
        hint = next((h for needle, h in _ERROR_HINTS if needle in message), None)
        return Classified("error", _error_fields(message, None), hint, None)
    return Classified("other", {}, None, None)


NEWEST = "v0.28.9"  # the newest tag the catalog was read from


def _hint(e: Entry) -> str | None:
    """A version hint in the parser's notation (`>=v0.7.0`, `<=v0.6.2`, `v0.5.6-v0.7.1`, `k3s`)."""
    if e.origin != "flannel":
        return e.origin if e.origin != "systemd" else None
    first, _, last = e.versions.partition("..")
    if first == "v0.1.0" and last == NEWEST:
        return None
    if last == NEWEST:
        return f">={first}"
    if first == "v0.1.0":
        return f"<={last}"
    return f"{first}-{last}"


def _clean_exit(message: str) -> bool:
    """`Main process exited, code=exited, status=0/SUCCESS`: an exit that is not a failure."""
    return "status=0/SUCCESS" in message or "result 'success'" in message


def severity(message_id: str | None, message: str, level: str) -> str:
    """"error", "warning" or "info" for an event: its klog level when it has one, else its statement's."""
    if level in ("E", "F"):
        return "error"
    if level == "W":
        return "warning"
    e = entry(message_id)
    if level == "I" or e is None:
        return "info"
    if e.id.startswith("unit.") and _clean_exit(message):
        return "info"
    return e.severity


def _error_fields(message: str, message_id: str | None) -> Fields:
    return {"error_class": diagnose(message, message_id), "chain": message, "root": message.rsplit(": ", 1)[-1]}


def error_class(message: str) -> str:
    """The class of an error chain whose statement is not known (see `diagnose`)."""
    return diagnose(message, None)


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
