"""Bundle -> parsers -> Host: run each source's parser and assemble one Host per bundle.

This is the combiner layer: it prefers `ip route` over `route -n` over `/proc/net/route`, merges
`ip -d link`, `ip -d address` and `ip -s link` into one interface table, adds the tables of a
sosreport's per-table list files (nat, mangle, raw) to the list-format Ruleset, and records for every
known source whether it was parsed, with its unparsed lines. Nothing here reads the disk except through
the bundle reader.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from netsnap.bundle.limits import Limits
from netsnap.bundle.model import Bundle, SourceFile
from netsnap.bundle.text import nonblank_count
from netsnap.flannel import effective
from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.firewalld import (
    ConfSetting,
    FirewalldSetting,
    FirewalldState,
    FirewalldZone,
    UfwRule,
    UfwSetting,
    UfwState,
)
from netsnap.model.flannel import FlagValue, FlannelEvent, NetConf, ProcessArgv, SubnetEnv, SystemdUnit
from netsnap.model.host import BundleInfo, Host, Identity, Snapshot, SourceState, SourceStatus
from netsnap.model.interfaces import Interface
from netsnap.model.iptables import Ruleset
from netsnap.model.kernel import ModuleOption, ModuleParameter, VxlanModule
from netsnap.model.nftables import NftRuleset
from netsnap.model.routes import Route
from netsnap.parsers.registry import PARSER_MODULES, parser_for
from netsnap.sources import BY_ID, SOS_ONLY_SOURCES, SOURCES

ROUTE_PREFERENCE = ("ip_route", "route_n", "proc_net_route")
IPTABLES_SOURCES = ("iptables_save", "ip6tables_save", "iptables_legacy_save", "iptables_nft_save", "iptables_list")


def load_bundle(path: str | os.PathLike[str], limits: Limits | None = None) -> Host:
    """Open one bundle and parse it into a Host (BundleError for an unreadable bundle)."""
    from netsnap.bundle.reader import open_bundle

    return build_host(open_bundle(path, limits))


def load_snapshot(
    paths: Sequence[str | os.PathLike[str]], members: dict[str, dict[str, str]] | None = None,
    limits: Limits | None = None,
) -> Snapshot:
    """Open and parse every bundle the paths hold (an input may hold several: reader.open_bundles).

    The same bundle given twice (same content) is analysed once, with a note on the host. Different
    bundles that name the same host are all kept, each told apart by its bundle: `node1 (node1-b.tgz)`.
    `members`, when given, receives each host's readable bundle text members under its (final) name,
    for the report's raw-file appendix, so no bundle is read twice.
    """
    from netsnap.bundle.reader import open_bundles

    loaded: list[tuple[Host, dict[str, str]]] = []
    by_content: dict[tuple[str, str], Host] = {}
    # Reading and parsing allocate millions of objects and free them by reference counting (no cycles):
    # cyclic-GC passes over the growing heap only cost time (measured on bench/analyze_bench.py's node B,
    # 400k rules + 200k journal lines: the journal's parse after the ruleset's spent seconds in them).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            for bundle in open_bundles(path, limits):
                key = (bundle.kind, bundle.sha256 or os.path.realpath(bundle.path))
                first = by_content.get(key)
                if first is not None:
                    first.bundle.problems.append(f"the same bundle was given again as {bundle.path}; analysed once")
                    continue
                host = build_host(bundle)
                by_content[key] = host
                loaded.append((host, dict(bundle.members) if members is not None else {}))
    finally:
        if gc_was_enabled:
            gc.enable()
    hosts = _distinct_names([h for h, _ in loaded])
    if members is not None:
        for host, (_, texts) in zip(hosts, loaded, strict=True):
            members[host.name] = texts
    snapshot = Snapshot(hosts=hosts)
    # The snapshot lives as long as the command and holds millions of objects on a large node (about 10
    # per iptables rule): every later full cyclic-GC pass would walk them all (measured, bench/analyze_bench.py:
    # ~1 s of a 100k-rule analyze went to GC passes while the trace indexes and imports allocated). Frozen
    # objects are skipped by the cyclic GC; reference counting still frees them.
    gc.freeze()
    return snapshot


def _distinct_names(hosts: list[Host]) -> list[Host]:
    """Hosts that share a name are renamed `NAME (LABEL)`, LABEL the shortest tail of their bundle
    paths that tells them apart (`node1 (node1-b.tgz)`, `node1 (case-2/node1)`)."""
    by_name: dict[str, list[int]] = {}
    for i, host in enumerate(hosts):
        by_name.setdefault(host.name, []).append(i)
    out = list(hosts)
    for name, idx in by_name.items():
        if len(idx) < 2:
            continue
        parts = [[p for p in hosts[i].bundle.path.replace("\\", "/").split("/") if p] or ["?"] for i in idx]
        depth = 1
        while depth < max(len(p) for p in parts) and len({"/".join(p[-depth:]) for p in parts}) < len(parts):
            depth += 1
        labels = ["/".join(p[-depth:]) for p in parts]
        for n, (i, label) in enumerate(zip(idx, labels, strict=True)):
            unique = label if labels.count(label) == 1 else f"{label} #{n + 1}"
            out[i] = hosts[i].model_copy(update={"name": f"{name} ({unique})"})
    return out


def _remap(obj: Any, sf: SourceFile) -> Any:
    """Rewrite every Provenance of `sf.file` through `sf.locate` (a filtered sos journal's real lines, or the
    member and line of a source joined from several members)."""
    if isinstance(obj, Provenance):
        if obj.line > 0 and obj.file == sf.file:
            file, line = sf.locate(obj.line)
            return Provenance(file, line) if (file, line) != tuple(obj) else obj
        return obj
    if isinstance(obj, UnparsedLine):  # shown with its line in the file, like every record
        line = sf.locate(obj.line)[1] if obj.line > 0 else obj.line
        return obj if line == obj.line else obj.model_copy(update={"line": line})
    if isinstance(obj, BaseModel):
        updates = {}
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            new = _remap(value, sf)
            if new is not value:
                updates[name] = new
        return obj.model_copy(update=updates) if updates else obj
    if isinstance(obj, list):
        items = [_remap(v, sf) for v in obj]
        return items if any(a is not b for a, b in zip(items, obj, strict=True)) else obj
    if isinstance(obj, dict):
        out = {k: _remap(v, sf) for k, v in obj.items()}
        return out if any(out[k] is not obj[k] for k in obj) else obj
    return obj


def _parse(sf: SourceFile, status: SourceStatus) -> Parsed[Any] | None:
    try:
        result = parser_for(sf.source)(sf.text, sf.file)
    except MemoryError:  # the process memory limit: this source is lost, the others still count
        status.state = SourceState.UNREADABLE
        status.notes.append("not parsed: ran out of memory (raise it with netsnap --limit memory=SIZE)")
        return None
    except Exception as exc:  # parsers must not raise; a bug must not hide the other sources
        status.state = SourceState.UNREADABLE
        status.notes.append(f"parser error: {type(exc).__name__}: {exc}")
        return None
    if result.source != sf.source:  # one parser module may serve several sources (ip_addr, ip_link)
        result = result.model_copy(update={"source": sf.source})
    if sf.line_map or sf.parts:
        result = _remap(result, sf)
    # a ruleset is one item holding many rules; its count check is per rule
    status.parsed = sum(r.rule_count() if isinstance(r, Ruleset | NftRuleset) else 1 for r in result.items)
    status.expected = result.expected
    status.unparsed = list(result.unparsed)
    status.notes.extend(result.notes)
    if sf.exit_code not in (0, None) and not result.items and result.unparsed:
        # a sosreport keeps a failing command's output, which is then only its error (lsmod without /proc/modules)
        status.state = SourceState.FAILED
        status.notes.append(f"exit code {sf.exit_code} and no line understood: the output is the command's error")
        return None
    return result


def _status(sf: SourceFile) -> SourceStatus:
    return SourceStatus(
        source=sf.source,
        state=sf.state,
        file=sf.file,
        command=sf.command,
        size=sf.size or len(sf.text.encode("utf-8", errors="replace")),
        exit_code=sf.exit_code,
        duration_ms=sf.duration_ms,
        sha256=sf.sha256,
        lines=nonblank_count(sf.text.splitlines()),
        empty_answer=sf.state == SourceState.EMPTY and sf.exit_code == 0 and _empty_ok(sf.source),
        notes=list(sf.notes) + ([f"{sf.replaced_bytes} undecodable bytes or control characters replaced"]
                                if sf.replaced_bytes else []),
    )


def _empty_ok(source: str) -> bool:
    spec = BY_ID.get(source)
    return spec is not None and spec.empty_ok


def _merge_interfaces(host: Host, items: Iterable[Interface]) -> None:
    """One interface table from `ip -d link`, `ip -d address` and `ip -s -d link` (sosreports have no plain
    `ip -d link`: their VXLAN details and MTUs come from the other two): what a source adds is kept only where
    the ones read before it said nothing."""
    for iface in items:
        have = host.interfaces.get(iface.name)
        if have is None:
            host.interfaces[iface.name] = iface
            continue
        update: dict[str, Any] = {}
        for field in ("index", "link", "kind", "state", "mtu", "mac", "master", "vxlan", "counters"):
            if getattr(have, field) is None and getattr(iface, field) is not None:
                update[field] = getattr(iface, field)
        if not have.flags and iface.flags:
            update["flags"] = iface.flags
        if iface.addresses and not have.addresses:
            update["addresses"] = iface.addresses
        if iface.details:
            update["details"] = {**iface.details, **have.details}
        if update:
            host.interfaces[iface.name] = have.model_copy(update=update)


def _identity(bundle: Bundle, parsed: dict[str, Parsed[Any]]) -> Identity:
    facts: dict[str, str] = {}
    for source in ("hostname", "uname", "os_release", "date", "uptime", "dmi_sys_vendor", "dmi_product_name",
                   "dmi_chassis_asset_tag"):
        result = parsed.get(source)
        for item in result.items if result else []:
            key, value = getattr(item, "key", None), getattr(item, "value", None)
            if isinstance(key, str) and isinstance(value, str):
                facts.setdefault(key, value)
    os_release = {k[3:]: v for k, v in facts.items() if k.startswith("os.")}
    return Identity(
        hostname=facts.get("hostname") or bundle.host,
        kernel=facts.get("kernel"),
        os_release=os_release,
        date=facts.get("date"),
        uptime=facts.get("uptime"),
        dmi={k[4:]: v for k, v in facts.items() if k.startswith("dmi.")},
    )


def _flannel(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    fl = host.flannel
    for source in ("flannel_env_default", "flannel_env_sysconfig"):
        result = parsed.get(source)
        if result:
            fl.env_files[result.file] = {fv.name: fv for fv in result.items if isinstance(fv, FlagValue)}
    options = parsed.get("options_env")
    if options:
        fl.options_env = {fv.name: fv for fv in options.items if isinstance(fv, FlagValue)}
    unit = parsed.get("flannel_unit")
    if unit and unit.items and isinstance(unit.items[0], SystemdUnit):
        fl.unit = unit.items[0]
    subnet = parsed.get("subnet_env")
    if subnet and subnet.items and isinstance(subnet.items[0], SubnetEnv):
        fl.subnet_env = subnet.items[0]
    net_conf = parsed.get("net_conf")
    if net_conf and net_conf.items and isinstance(net_conf.items[0], NetConf):
        fl.net_conf = net_conf.items[0]
    for source in ("flannel_journal", "flannel_pod_logs"):
        result = parsed.get(source)
        if result:
            fl.events.extend(e for e in result.items if isinstance(e, FlannelEvent))
    fl.files_config = effective.files_config_for(host)
    cmdline = parsed.get("flannel_cmdline")
    if cmdline and cmdline.items:
        fl.process_config = effective.process_config(
            [p for p in cmdline.items if isinstance(p, ProcessArgv)], events=fl.events
        )
    else:  # no argv captured (kube-flannel pods): flanneld's own "CLI flags config" log line, if any
        fl.process_config = effective.journal_config(fl.events)


def _add_tables(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    """Tables from a sosreport's per-table list files join the Ruleset of the same variant ("list").

    Each table keeps its own file's provenance. A table the main list file already holds stays as it
    was (the duplicate is noted on the per-table source); with no main list file, the first per-table
    file's Ruleset becomes the list Ruleset.
    """
    for spec in SOS_ONLY_SOURCES:
        result = parsed.get(spec.id)
        for ruleset in result.items if result else []:
            if not isinstance(ruleset, Ruleset):
                continue
            have = host.iptables.get(ruleset.variant)
            if have is None:
                host.iptables[ruleset.variant] = ruleset
                continue
            dup = [name for name in ruleset.tables if name in have.tables]
            for name in dup:
                host.sources[spec.id].notes.append(
                    f"table {name} already read from {have.tables[name].src.file}; this file's copy is not used")
            new = {name: table for name, table in ruleset.tables.items() if name not in have.tables}
            if new:
                host.iptables[ruleset.variant] = have.model_copy(update={"tables": {**have.tables, **new}})


def _vxlan_module(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    """The vxlan module's running udp_port and the modprobe options that set it."""
    port = parsed.get("vxlan_udp_port")
    params = [p for p in port.items if isinstance(p, ModuleParameter)] if port else []
    options = parsed.get("modprobe_vxlan")
    host.vxlan_module = VxlanModule(
        udp_port=params[0] if params else None,
        options=[o for o in options.items if isinstance(o, ModuleOption) and o.module == "vxlan"] if options else [],
    )


def _nftables(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    """The nftables ruleset: the JSON dump when there is one (nft's own structure), its rules pointed at
    their lines of the text dump by (table, chain, handle), and netdev devices taken from the text (nft's
    JSON does not list them); else the text dump alone."""
    def first(source: str) -> NftRuleset | None:
        result = parsed.get(source)
        found = [r for r in result.items if isinstance(r, NftRuleset)] if result else []
        return found[0] if found else None

    js, tx = first("nft_json"), first("nft_text")
    if js is None or tx is None:
        host.nftables = js or tx
        return
    lines = {(t.key, c.name, r.handle): r for t in tx.tables.values() for c in t.chains.values() for r in c.rules
             if r.handle is not None}
    tables = {}
    for key, table in js.tables.items():
        chains = {}
        for name, chain in table.chains.items():
            rules = []
            for rule in chain.rules:
                seen = lines.get((key, name, rule.handle)) if rule.handle is not None else None
                rules.append(rule.model_copy(update={"src": seen.src, "raw": seen.raw}) if seen else rule)
            update: dict[str, Any] = {"rules": rules}
            text_chain = tx.tables[key].chains.get(name) if key in tx.tables else None
            if text_chain is not None:
                update["src"] = text_chain.src
                if not chain.devices and text_chain.devices:
                    update["devices"] = text_chain.devices
            chains[name] = chain.model_copy(update=update)
        tables[key] = table.model_copy(update={"chains": chains,
                                               "compat": table.compat or (key in tx.tables and tx.tables[key].compat)})
    host.nftables = js.model_copy(update={"tables": tables})


def _firewalld(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    """firewalld's state from its firewall-cmd answers and firewalld.conf (None when the bundle has none)."""
    sources = ("firewalld_state", "firewalld_default_zone", "firewalld_log_denied", "firewalld_zones",
               "firewalld_active_zones", "firewalld_conf")
    if not any(s in parsed for s in sources):
        return
    fw = FirewalldState()
    for source in sources:
        result = parsed.get(source)
        for item in result.items if result else []:
            if isinstance(item, FirewalldSetting):
                if item.key == "state":
                    answer = item.value.strip().lower()  # else firewall-cmd's error (no D-Bus...): not known
                    fw.running = True if answer == "running" else (False if answer == "not running" else None)
                    fw.file = fw.file or item.src.file
                elif item.key == "default_zone":
                    fw.default_zone = item.value
                elif item.key == "log_denied":
                    fw.log_denied = item.value
            elif isinstance(item, ConfSetting):
                fw.conf[item.key] = item
            elif isinstance(item, FirewalldZone):
                have = fw.zones.get(item.name)
                if have is None or (have.bindings_only and not item.bindings_only):
                    fw.zones[item.name] = item
                if item.default and fw.default_zone is None:
                    fw.default_zone = item.name
    backend = fw.conf.get("FirewallBackend")
    fw.backend = backend.value if backend else None
    if fw.file is None and backend is not None:
        fw.file = backend.src.file
    if fw.default_zone is None and "DefaultZone" in fw.conf:
        fw.default_zone = fw.conf["DefaultZone"].value
    host.firewalld = fw


def _ufw(host: Host, parsed: dict[str, Parsed[Any]]) -> None:
    """UFW's state from `ufw status` and /etc/default/ufw (None when the bundle has neither)."""
    status, default = parsed.get("ufw_status"), parsed.get("ufw_default")
    if status is None and default is None:
        return
    ufw = UfwState(file=status.file if status else None)
    for item in status.items if status else []:
        if isinstance(item, UfwRule):
            ufw.rules.append(item)
        elif isinstance(item, UfwSetting) and item.key == "status":
            ufw.active = item.value.lower() == "active"
        elif isinstance(item, UfwSetting) and item.key == "default":
            for part in item.value.split(","):
                policy, _, where = part.strip().partition(" ")
                direction = where.strip("()")
                if direction in ("incoming", "outgoing", "routed"):
                    setattr(ufw, direction, policy)
    for item in default.items if default else []:
        if isinstance(item, ConfSetting):
            ufw.conf[item.key] = item
    for direction, key in (("incoming", "DEFAULT_INPUT_POLICY"), ("outgoing", "DEFAULT_OUTPUT_POLICY"),
                           ("routed", "DEFAULT_FORWARD_POLICY")):
        if getattr(ufw, direction) is None and key in ufw.conf:
            setattr(ufw, direction, ufw.conf[key].value.lower())
    host.ufw = ufw


def build_host(bundle: Bundle) -> Host:
    """Parse every source of `bundle` and assemble the Host."""
    statuses: dict[str, SourceStatus] = {}
    parsed: dict[str, Parsed[Any]] = {}
    # sosreport-only sources get a status only when the bundle has (or sos tried) their file
    present_only = [s for s in SOS_ONLY_SOURCES if s.id in bundle.files or s.id in bundle.missing]
    for spec in (*SOURCES, *present_only):
        sf = bundle.files.get(spec.id)
        if sf is not None:
            status = _status(sf)
            statuses[spec.id] = status
            if status.usable and spec.id in PARSER_MODULES:
                result = _parse(sf, status)
                if result is not None:
                    parsed[spec.id] = result
        elif spec.id in bundle.missing:
            statuses[spec.id] = _status(bundle.missing[spec.id])
        else:
            statuses[spec.id] = SourceStatus(source=spec.id, state=SourceState.NOT_COLLECTED)

    collected_at: datetime | None = None
    if bundle.collected_at:
        try:
            collected_at = datetime.fromisoformat(bundle.collected_at.replace("Z", "+00:00"))
        except ValueError:
            bundle.problems.append(f"manifest collected_at is not a timestamp: {bundle.collected_at!r}")
    info = BundleInfo(
        path=bundle.path,
        kind=bundle.kind,
        sha256=bundle.sha256,
        collector_version=bundle.collector_version,
        collected_at=collected_at,
        redactions=bundle.redactions,
        problems=list(bundle.problems),
    )
    host = Host(name=bundle.host, bundle=info, identity=_identity(bundle, parsed), sources=statuses)

    for source in ("ip_link", "ip_addr", "ip_link_stats"):
        if source in parsed:
            _merge_interfaces(host, parsed[source].items)

    for source in ROUTE_PREFERENCE:
        if source in parsed and statuses[source].understood:
            host.routes = [r for r in parsed[source].items if isinstance(r, Route)]
            host.routes_origin = source
            break
    if "ip_rule" in parsed:
        host.policy_rules = list(parsed["ip_rule"].items)
    if "ip_neigh" in parsed:
        host.neighbours = list(parsed["ip_neigh"].items)
    if "bridge_fdb" in parsed:
        host.fdb = list(parsed["bridge_fdb"].items)
    for source in IPTABLES_SOURCES:
        result = parsed.get(source)
        if result:
            for ruleset in result.items:
                if isinstance(ruleset, Ruleset):
                    host.iptables[ruleset.variant] = ruleset
    _add_tables(host, parsed)
    _nftables(host, parsed)
    _firewalld(host, parsed)
    _ufw(host, parsed)
    if "sysctl" in parsed:
        host.sysctls = {s.key: s for s in parsed["sysctl"].items}
    if "lsmod" in parsed:
        host.modules = {m.name: m for m in parsed["lsmod"].items}
    if "dmesg" in parsed:
        host.kernel_events = list(parsed["dmesg"].items)
    if "ethtool" in parsed:
        host.ethtool = list(parsed["ethtool"].items)
    if "ipset" in parsed:
        host.ipsets = {s.name: s for s in parsed["ipset"].items}
    _vxlan_module(host, parsed)
    _flannel(host, parsed)
    return host
