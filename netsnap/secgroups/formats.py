"""Loaders for security-group exports; the format is detected from the content.

Supported: `openstack security group rule list -f json` (neutron-osc), the raw Neutron API rule
list or `openstack security group show -f json` (neutron; also Huawei v2.0/v1), Huawei VPC v3
(`security_group_rules` with `action`/`priority`/`multiport`), AWS `describe-security-groups`,
Alibaba `DescribeSecurityGroupAttribute`, and netsnap's native format (`native.py`).
"""

from __future__ import annotations

import functools
import json
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from netsnap.bundle.jsondoc import check_document, decode_document, loads
from netsnap.bundle.limits import InputRefused, Limits
from netsnap.bundle.members import clean_name
from netsnap.bundle.regular import read_bounded
from netsnap.model.base import Provenance
from netsnap.secgroups.model import Direction, PortRange, SecurityGroupSet, SGRule
from netsnap.secgroups.native import FORMAT_TAG, NativeSyntaxError, parse_simple_yaml

_JSON_STRING = re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"')
PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}
ANY_PROTO = {"", "any", "all", "-1", "0", "none", "null"}


class SecGroupError(Exception):
    """An export netsnap cannot read; str() is one line naming the file."""


class _Bad(ValueError):
    """A problem inside one export, turned into SecGroupError with the file name."""


def _proto(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ANY_PROTO:
        return None
    return PROTO_NUMBERS.get(text, text)


def _net(value: object) -> IPv4Network | IPv6Network | None:
    if value in (None, ""):
        return None
    try:
        return ip_network(str(value).strip(), strict=False)
    except ValueError as exc:
        raise _Bad(f"bad CIDR {value!r}") from exc


def _int(value: object, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise _Bad(f"bad {what} {value!r}") from exc


def _ports_text(text: str, sep: str = "-") -> list[PortRange] | None:
    """`80`, `1-30`, `22,3389,80` (Huawei multiport; `sep` is the range separator)."""
    text = text.strip()
    if text in ("", "-1", "-1/-1", "-1:-1", "any", "all"):
        return None
    out: list[PortRange] = []
    for part in text.split(","):
        part = part.strip()
        lo_s, _, hi_s = part.partition(sep)
        lo = _int(lo_s, "port")
        hi = _int(hi_s, "port") if hi_s else lo
        if lo is None or hi is None or not (0 <= lo <= hi <= 65535):
            raise _Bad(f"bad port range {part!r}")
        out.append(PortRange(lo=lo, hi=hi))
    return out


def _range(lo: int | None, hi: int | None) -> list[PortRange] | None:
    if lo is None and hi is None:
        return None
    lo = lo if lo is not None else hi
    hi = hi if hi is not None else lo
    assert lo is not None and hi is not None
    if lo < 0 or hi < 0:
        return None
    return [PortRange(lo=lo, hi=hi)]


@functools.lru_cache(maxsize=4)
def _string_lines(text: str) -> dict[str, int]:
    """Every JSON string of `text` -> the 1-based line of its first occurrence, in one pass (one
    lookup per rule, so a 100,000-rule export costs one scan, not one per rule)."""
    out: dict[str, int] = {}
    line, last = 1, 0
    for m in _JSON_STRING.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        out.setdefault(m.group(1), line)
    return out


@functools.lru_cache(maxsize=8)
def _occurrence_lines(text: str, needle: str) -> tuple[int, ...]:
    """The 1-based line of every occurrence of `needle` in `text`, in one pass."""
    lines: list[int] = []
    line, last = 1, 0
    pos = text.find(needle)
    while pos >= 0:
        line += text.count("\n", last, pos)
        last = pos
        lines.append(line)
        pos = text.find(needle, pos + 1)
    return tuple(lines)


def _line_of(text: str, needle: str) -> int:
    if not needle:
        return 0
    found = _string_lines(text).get(needle)
    if found is not None:
        return found
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 0


def _nth_line(text: str, needle: str, n: int) -> int:
    """1-based line of the n-th (0-based) occurrence of `needle`, 0 if there are fewer."""
    lines = _occurrence_lines(text, needle)
    return lines[n] if n < len(lines) else 0


def _ethertype(value: object) -> int:
    return 6 if str(value or "IPv4").lower() in ("ipv6", "6") else 4


def _direction(value: object) -> str:
    d = str(value or "").strip().lower()
    if d not in ("ingress", "egress"):
        raise _Bad(f"bad direction {value!r}")
    return d


def _rule(text: str, file: str, index: int, data: dict[str, Any], **fields: Any) -> SGRule:
    rid = str(fields.pop("rule_id", "") or "")
    line = fields.pop("line", None)
    if line is None:
        line = _line_of(text, rid) if rid else 0
    raw = json.dumps(data, sort_keys=True, default=str)
    return SGRule(rule_id=rid or f"#{index + 1}", src=Provenance(file=file, line=line), raw=raw, **fields)


def _neutron_raw(text: str, file: str, rules: list[Any], stateful: bool = True) -> SecurityGroupSet:
    out: list[SGRule] = []
    groups: list[str] = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            raise _Bad(f"rule {i + 1} is not an object")
        proto = _proto(r.get("protocol"))
        lo, hi = _int(r.get("port_range_min"), "port"), _int(r.get("port_range_max"), "port")
        icmp_type = icmp_code = None
        ports = _range(lo, hi)
        if proto in ("icmp", "icmpv6"):
            ports, icmp_type, icmp_code = None, lo, hi
        gid = str(r.get("security_group_id") or "")
        if gid and gid not in groups:
            groups.append(gid)
        out.append(_rule(
            text, file, i, r, provider="neutron", group_id=gid, direction=_direction(r.get("direction")),
            ethertype=_ethertype(r.get("ethertype")), protocol=proto, ports=ports, icmp_type=icmp_type,
            icmp_code=icmp_code, remote_cidr=_net(r.get("remote_ip_prefix")),
            remote_group=r.get("remote_group_id") or None,
            remote_other=(f"address group {r['remote_address_group_id']}" if r.get("remote_address_group_id")
                          else None),
            rule_id=r.get("id"), description=str(r.get("description") or ""),
        ))
    return SecurityGroupSet(provider="neutron", file=file, groups=groups, rules=out, stateful=stateful)


def _osc_ports(value: object) -> tuple[list[PortRange] | None, int | None, int | None]:
    text = str(value or "").strip()
    if text.startswith("type="):
        parts = dict(p.split("=", 1) for p in text.split(":") if "=" in p)
        return None, _int(parts.get("type"), "icmp type"), _int(parts.get("code"), "icmp code")
    return _ports_text(text, ":"), None, None


def _neutron_osc(text: str, file: str, rows: list[Any]) -> SecurityGroupSet:
    out: list[SGRule] = []
    groups: list[str] = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise _Bad(f"row {i + 1} is not an object")
        proto = _proto(r.get("IP Protocol"))
        ports, icmp_type, icmp_code = _osc_ports(r.get("Port Range"))
        gid = str(r.get("Security Group") or "")
        if gid and gid not in groups:
            groups.append(gid)
        direction = r.get("Direction") or "ingress"  # old OSC without --long listed ingress only
        remote_group = r.get("Remote Security Group") or None
        cidr = _net(r.get("IP Range"))
        if cidr is None and remote_group is None and not r.get("Remote Address Group"):
            cidr = ip_network("0.0.0.0/0") if _ethertype(r.get("Ethertype")) == 4 else ip_network("::/0")
        out.append(_rule(
            text, file, i, r, provider="neutron-osc", group_id=gid, direction=_direction(direction),
            ethertype=_ethertype(r.get("Ethertype")), protocol=proto, ports=ports, icmp_type=icmp_type,
            icmp_code=icmp_code, remote_cidr=cidr, remote_group=remote_group,
            remote_other=(f"address group {r['Remote Address Group']}" if r.get("Remote Address Group") else None),
            rule_id=r.get("ID"),
        ))
    described = any(isinstance(r, dict) and "Direction" in r for r in rows)
    directions: list[Direction] = ["ingress", "egress"] if described else ["ingress"]
    return SecurityGroupSet(provider="neutron-osc", file=file, groups=groups, rules=out, directions=directions)


def _huawei_v3(text: str, file: str, rules: list[Any]) -> SecurityGroupSet:
    out: list[SGRule] = []
    groups: list[str] = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            raise _Bad(f"rule {i + 1} is not an object")
        if r.get("enabled") is False:
            continue
        proto = _proto(r.get("protocol"))
        ports = _ports_text(str(r.get("multiport") or ""))
        icmp_type: int | None = None
        if proto in ("icmp", "icmpv6") and ports:
            icmp_type = ports[0].lo
            ports = None
        gid = str(r.get("security_group_id") or "")
        if gid and gid not in groups:
            groups.append(gid)
        action = str(r.get("action") or "allow").lower()
        if action not in ("allow", "deny"):
            raise _Bad(f"bad action {action!r}")
        out.append(_rule(
            text, file, i, r, provider="huawei-v3", group_id=gid, direction=_direction(r.get("direction")),
            ethertype=_ethertype(r.get("ethertype")), protocol=proto, ports=ports, icmp_type=icmp_type,
            remote_cidr=_net(r.get("remote_ip_prefix")), remote_group=r.get("remote_group_id") or None,
            remote_other=(f"address group {r['remote_address_group_id']}" if r.get("remote_address_group_id")
                          else None),
            action=action, priority=_int(r.get("priority"), "priority") or 1, rule_id=r.get("id"),
            description=str(r.get("description") or ""),
        ))
    return SecurityGroupSet(provider="huawei-v3", file=file, groups=groups, rules=out)


def _aws(text: str, file: str, data: dict[str, Any]) -> SecurityGroupSet:
    out: list[SGRule] = []
    groups: list[str] = []
    perm_no = 0
    sgs = data.get("SecurityGroups")
    if not isinstance(sgs, list):
        raise _Bad("SecurityGroups is not a list")
    for sg in sgs:
        if not isinstance(sg, dict):
            raise _Bad("a security group is not an object")
        gid = str(sg.get("GroupId") or "")
        groups.append(gid)
        for key, direction in (("IpPermissions", "ingress"), ("IpPermissionsEgress", "egress")):
            for perm in sg.get(key) or []:
                if not isinstance(perm, dict):
                    raise _Bad(f"{key} entry is not an object")
                line = _nth_line(text, '"IpProtocol"', perm_no)
                perm_no += 1
                proto = _proto(perm.get("IpProtocol"))
                ports: list[PortRange] | None = None
                icmp_type = icmp_code = None
                lo, hi = _int(perm.get("FromPort"), "FromPort"), _int(perm.get("ToPort"), "ToPort")
                if proto in ("tcp", "udp"):
                    ports = _range(lo, hi)
                elif proto in ("icmp", "icmpv6"):
                    icmp_type = lo if lo is not None and lo >= 0 else None
                    icmp_code = hi if hi is not None and hi >= 0 else None
                remotes: list[dict[str, Any]] = []
                for rng in perm.get("IpRanges") or []:
                    remotes.append({"remote_cidr": _net(rng.get("CidrIp")), "ethertype": 4})
                for rng in perm.get("Ipv6Ranges") or []:
                    remotes.append({"remote_cidr": _net(rng.get("CidrIpv6")), "ethertype": 6})
                for pair in perm.get("UserIdGroupPairs") or []:
                    remotes.append({"remote_group": str(pair.get("GroupId") or "")})
                for pl in perm.get("PrefixListIds") or []:
                    remotes.append({"remote_other": f"prefix list {pl.get('PrefixListId')}"})
                for remote in remotes:
                    out.append(_rule(
                        text, file, len(out), perm, provider="aws", group_id=gid,
                        group_name=str(sg.get("GroupName") or ""), direction=direction, protocol=proto,
                        ports=ports, icmp_type=icmp_type, icmp_code=icmp_code, line=line,
                        **remote,
                    ))
    return SecurityGroupSet(provider="aws", file=file, groups=groups, rules=out)


def _alibaba(text: str, file: str, data: dict[str, Any]) -> SecurityGroupSet:
    perms_obj = data.get("Permissions")
    perms = perms_obj.get("Permission") if isinstance(perms_obj, dict) else perms_obj
    if not isinstance(perms, list):
        raise _Bad("Permissions.Permission is not a list")
    gid = str(data.get("SecurityGroupId") or "")
    out: list[SGRule] = []
    for i, p in enumerate(perms):
        if not isinstance(p, dict):
            raise _Bad(f"permission {i + 1} is not an object")
        direction = _direction(p.get("Direction"))
        proto = _proto(p.get("IpProtocol"))
        ports = _ports_text(str(p.get("PortRange") or "-1/-1"), "/")
        if proto in ("icmp", "icmpv6", "gre"):
            ports = None
        if direction == "ingress":
            cidr, grp = p.get("SourceCidrIp") or p.get("Ipv6SourceCidrIp"), p.get("SourceGroupId")
            other = p.get("SourcePrefixListId")
        else:
            cidr, grp = p.get("DestCidrIp") or p.get("Ipv6DestCidrIp"), p.get("DestGroupId")
            other = p.get("DestPrefixListId")
        policy = str(p.get("Policy") or "Accept").lower()
        out.append(_rule(
            text, file, i, p, provider="alibaba", group_id=gid, group_name=str(data.get("SecurityGroupName") or ""),
            direction=direction, protocol=proto, ports=ports, remote_cidr=_net(cidr), remote_group=grp or None,
            remote_other=f"prefix list {other}" if other else None,
            action="deny" if policy in ("drop", "deny") else "allow",
            priority=_int(p.get("Priority"), "priority") or 1, rule_id=p.get("SecurityGroupRuleId"),
            description=str(p.get("Description") or ""),
        ))
    return SecurityGroupSet(provider="alibaba", file=file, groups=[gid], rules=out)


def _native(text: str, file: str, data: dict[str, Any], lines: dict[int, int]) -> SecurityGroupSet:
    gid = str(data.get("group") or data.get("name") or "native")
    stateful = str(data.get("stateful", "true")).lower() not in ("false", "no", "0")
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise _Bad("rules is not a list")
    out: list[SGRule] = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            raise _Bad(f"rule {i + 1} is not a mapping")
        unknown = set(r) - {"direction", "protocol", "ports", "remote", "action", "priority", "id", "description"}
        if unknown:
            raise _Bad(f"rule {i + 1}: unknown key {sorted(unknown)[0]!r}")
        proto = _proto(r.get("protocol"))
        ports = _ports_text(str(r.get("ports") or ""))
        icmp_type: int | None = None
        if proto in ("icmp", "icmpv6") and ports:
            icmp_type = ports[0].lo
            ports = None
        remote = str(r.get("remote") or "").strip()
        remote_group = remote[6:] if remote.startswith("group:") else None
        cidr = None if remote_group or remote in ("", "any") else _net(remote)
        action = str(r.get("action") or "allow").lower()
        if action not in ("allow", "deny"):
            raise _Bad(f"rule {i + 1}: bad action {action!r}")
        out.append(_rule(
            text, file, i, r, provider="native", group_id=gid, direction=_direction(r.get("direction")),
            protocol=proto, ports=ports, icmp_type=icmp_type, remote_cidr=cidr, remote_group=remote_group,
            action=action, priority=_int(r.get("priority"), "priority") or 100, rule_id=str(r.get("id") or ""),
            line=lines.get(i, 0), description=str(r.get("description") or ""),
        ))
    return SecurityGroupSet(provider="native", file=file, groups=[gid], rules=out, stateful=stateful)


def _from_json(text: str, file: str, data: Any) -> SecurityGroupSet:
    if isinstance(data, list):
        if not data:
            raise _Bad("empty rule list")
        first = data[0]
        if isinstance(first, dict) and ("IP Protocol" in first or "Port Range" in first or "IP Range" in first):
            return _neutron_osc(text, file, data)
        if isinstance(first, dict) and "direction" in first:
            if any(isinstance(r, dict) and ("multiport" in r or "action" in r) for r in data):
                return _huawei_v3(text, file, data)
            return _neutron_raw(text, file, data)
        raise _Bad("a JSON list that is not a security-group rule list")
    if not isinstance(data, dict):
        raise _Bad("not a security-group export")
    if data.get("format") == FORMAT_TAG:
        return _native(text, file, data, {})
    if "SecurityGroups" in data:
        return _aws(text, file, data)
    if "Permissions" in data:
        return _alibaba(text, file, data)
    rules = data.get("security_group_rules")
    if isinstance(rules, list):
        if any(isinstance(r, dict) and ("multiport" in r or "action" in r or "priority" in r) for r in rules):
            return _huawei_v3(text, file, rules)
        return _neutron_raw(text, file, rules)
    group = data.get("security_group")
    if isinstance(group, dict):
        data = group
    if isinstance(data.get("rules") or data.get("security_group_rules"), list):  # `security group show`
        sg = _neutron_raw(text, file, data.get("rules") or data.get("security_group_rules") or [],
                          stateful=data.get("stateful") is not False)
        gid = str(data.get("id") or "")
        for r in sg.rules:
            if not r.group_id:
                r.group_id = gid
        sg.groups = [gid] if gid else sg.groups
        return sg
    raise _Bad("unrecognised security-group export (not OpenStack, Huawei, AWS, Alibaba or netsnap-sg/1)")


def load_text(text: str, file: str, limits: Limits | None = None) -> SecurityGroupSet:
    """Parse one export's text under the document limits (size, JSON depth); raises SecGroupError
    with a one-line message naming `file`."""
    limits = limits or Limits()
    try:
        stripped = text.lstrip("\ufeff").strip()
        if not stripped:
            raise _Bad("empty file")
        if stripped[0] in "[{":
            try:
                data = loads(stripped, file, limits)
            except json.JSONDecodeError as exc:
                raise _Bad(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
            return _from_json(text, file, data)
        check_document(text, file, limits)
        first = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
        if first.replace(" ", "").replace("'", "").replace('"', "") != f"format:{FORMAT_TAG}":
            raise _Bad(f"not JSON and not the native format (first key must be 'format: {FORMAT_TAG}')")
        try:
            top, lines = parse_simple_yaml(text)
        except NativeSyntaxError as exc:
            raise _Bad(str(exc)) from exc
        if top.get("format") != FORMAT_TAG:
            raise _Bad(f"not JSON and not the native format (first key must be 'format: {FORMAT_TAG}')")
        return _native(text, file, top, lines)
    except InputRefused as exc:
        raise SecGroupError(clean_name(str(exc))) from None
    except _Bad as exc:
        raise SecGroupError(clean_name(f"{file}: {exc}")) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # pydantic ValidationError is a ValueError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SecGroupError(clean_name(f"{file}: malformed security-group export ({first})")) from None


def load_file(path: str, limits: Limits | None = None) -> SecurityGroupSet:
    """Read (a regular file, at most the document-size limit, bounded read) and parse one export."""
    limits = limits or Limits()
    shown = clean_name(path)
    try:
        data = read_bounded(path, limits, "document-size", what=shown)
    except InputRefused as exc:
        raise SecGroupError(str(exc)) from None
    except OSError as exc:
        raise SecGroupError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    return load_text(decode_document(data), shown, limits)
