"""Recognising what a loose text file holds by its content: one small sniffer per kind of source.

Customers paste command output into tickets under any name (`route.txt`, `rules.txt`, `flannel.log`),
often with the prompt line they typed, inside markdown fences, after a warning the tool printed, and
sometimes several commands in one file. `sniff_segments()` cuts a file at its prompt lines
(`netsnap.bundle.paste.segments`); a segment whose prompt names a command netsnap reads takes that
command's source (the strongest hint there is). A segment without one is decided by its content: its
blank-line-separated blocks are sniffed on all their lines (noise such as prompts, fences, leading
tool warnings is skipped), and consecutive blocks of different kinds become separate segments.
Sniffers run from the most specific to the most generic. The file name is only a tie-breaker where
content alone cannot tell (hostname; /etc/default vs /etc/sysconfig flanneld; options.env; dmesg
without timestamps). `sniff()` gives the kind of the first segment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from netsnap.bundle.journal_filter import JOURNAL_LINE, is_flannel_line, split_lines
from netsnap.bundle.paste import Segment, is_noise, segments, source_for

HEAD_LINES = 60

_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_PREFIX = rf"(?:{_IPV4}(?:/\d{{1,2}})?|[0-9a-fA-F:]*:[0-9a-fA-F:]*(?:/\d{{1,3}})?)"
_ROUTE_LINE = re.compile(
    rf"^(?:(?:unicast|local|broadcast|multicast|throw|unreachable|prohibit|blackhole|nat|anycast)\s+)?"
    rf"(?:default|{_PREFIX})(?:\s+(?:via|dev|nhid|proto|scope|src|metric|table|onlink|linkdown|mtu|pref|expires|realm)\b.*|$)"
)
_ROUTE_SUBLINE = re.compile(r"^\s+(?:cache\b|nexthop\s)")
_ROUTE_N_HEADER = re.compile(r"^Destination\s+Gateway\s+Genmask\s+Flags\b")
_NAME = r"[A-Za-z_][\w.-]*"
_ROUTE_N_ROW = re.compile(rf"^(?:{_IPV4}|{_NAME})\s+(?:{_IPV4}|\*|{_NAME})\s+{_IPV4}\s+[UGHRDMAC!]+\s+\d+")
_ROUTE_TITLE = re.compile(r"^Kernel IP routing table\s*$")
_PROC_ROUTE_HEADER = re.compile(r"^Iface\s+Destination\s+Gateway\s+Flags\s+RefCnt")
_IP_RULE = re.compile(r"^\d+:\s+(?:not\s+)?from\s+\S+.*\b(?:lookup|table|goto|blackhole|unreachable|prohibit)\b")
_SAVE_TABLE = re.compile(r"^\*(?:filter|nat|mangle|raw|security)\s*$")
_SAVE_CHAIN = re.compile(r"^:[^\s]+ (?:ACCEPT|DROP|RETURN|-) \[\d+:\d+\]")
_SAVE_RULE = re.compile(r"^(?:\[\d+:\d+\]\s+)?-A\s+\S+|^-[PN]\s+\S+|^-A\s+\S+$")
_SAVE_OTHER = re.compile(r"^(?:COMMIT|# (?:Generated|Completed|Warning))")
_LIST_CHAIN = re.compile(r"^Chain \S+ \((?:policy \w+|\d+ references?)")
_LIST_HEADER = re.compile(r"^\s*(?:num\s+)?(?:pkts\s+bytes\s+)?target\s+prot\s+opt\b")
_LINK_HEAD = re.compile(r"^\d+:\s+[^\s:]+(?:@[^\s:]+)?:\s+<[A-Z0-9_,-]*>")
_ONELINE_ADDR = re.compile(r"^\d+:\s+\S+\s+inet6?\s+\S+")
_ONELINE_LINK = re.compile(r"^\d+:\s+[^\s:]+(?:@[^\s:]+)?:\s+<[A-Z0-9_,-]*>.*\\\s+link/")
_ADDR_LINE = re.compile(r"^\s+inet6?\s")
_STATS_LINE = re.compile(r"^\s+(?:RX|TX):\s")
_NEIGH = re.compile(
    r"^\S+\s+dev\s+\S+\s.*\b(?:REACHABLE|STALE|DELAY|PROBE|FAILED|INCOMPLETE|PERMANENT|NOARP|NONE)\s*$"
)
_FDB = re.compile(r"^(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}\s+(?:dev|dst|master|vlan|self|permanent|static)\b")
_SYSCTL = re.compile(r"^[a-z][\w-]*(?:\.[\w\-/:]+)+\s*=")
_LSMOD_HEADER = re.compile(r"^Module\s+Size\s+Used by")
_DMESG = re.compile(r"^\[\s*\d+\.\d+\]\s|^\[[A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d+ \d\d:\d\d:\d\d \d{4}\]\s")
# kernel messages without a timestamp (`dmesg -t`, /var/log/dmesg): words only the kernel log uses
_KERNEL_WORDS = re.compile(
    r"\bport \d+\([^)]*\) entered \w+ state|entered (?:promiscuous|allmulticast) mode"
    r"|left (?:promiscuous|allmulticast) mode"
    r"|^Linux version \d|^Command line: |^BIOS-(?:e820|provided)|^e820: |^ACPI: |^PCI: |^pci \d|^NET: Registered"
    r"|\bIPv6: ADDRCONF\(|\blink becomes ready\b|\bLink is (?:Up|Down)\b|\brenamed from \w+|nf_conntrack: |"
    r"UDP(?:v6)?: bad checksum|\bIN=\S* OUT=\S* |^(?:TCP|UDP|IPVS|Netfilter|bridge|br_netfilter|vxlan|x_tables|"
    r"ip_tables|nf_tables|EXT4-fs|XFS|audit|SELinux|Bluetooth|usb|virtio\w*|e1000\w*|device-mapper)[:(\s]"
    r"|^Initializing cgroup subsys|\bKilled process \d+|Out of memory: |\bcalled from\b|Call Trace:|^random: "
)
_ETHTOOL = re.compile(r"^Features for \S+:")
_KLOG = re.compile(r"^(?:\S+\s+(?:stdout|stderr)\s+[FP]\s+)?[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+\S+:\d+\]")
# a log viewer's prefix before the klog header: `[pod/NAME/CONTAINER] `, `kube-flannel `, `POD CONTAINER `
_PREFIXED_KLOG = re.compile(r"^(?:\[[\w./-]+\]|[a-z0-9][\w.-]*(?: [a-z0-9][\w.-]*)?) "
                            r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+\S+:\d+\]")
_CATALOG = re.compile(r"^(?:-- |--$|░░)")
_STATUS_HEAD = re.compile(r"^\s*(?:[●○×*] )?\S+\.service - |^\s+(?:Loaded|Active|Main PID|Process|Tasks|Memory|CPU"
                          r"|CGroup|Docs|Drop-In|Status|TriggeredBy|Invocation|Trigger|IP|IO):\s|^\s+[└├│]")
_ENV = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=")
_UNAME = re.compile(r"^Linux \S+ \d+\.\d+\S*")
_DATE = re.compile(
    r"^(?:[A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d+ \d\d:\d\d:\d\d \S+ \d{4}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*)$"
)
_UPTIME = re.compile(r"\bup\s+.*\bload average:")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")
_IPSET = re.compile(r"^(?:create \S+ (?:hash|bitmap|list):|Name: \S+$)")
_FLANNEL_ARG = re.compile(r"^--?[a-z][a-z-]*(?:=|$)")
# what a tool prints before its output (iproute2's database warnings, netlink warnings, sudo)
_TOOL_WARNING = re.compile(r"^(?:Warning|WARNING|Error|RTNETLINK answers|Database \S+ is corrupted|"
                           r"Cannot |\[sudo\] password|sudo: |# Warning: )")

Sniffer = Callable[[list[str], str], str | None]


def _share(lines: list[str], pattern: re.Pattern[str], at_least: float = 0.6) -> bool:
    hits = sum(1 for line in lines if pattern.search(line))
    return bool(lines) and hits >= max(1, at_least * len(lines))


def _routes(lines: list[str], _name: str) -> str | None:
    if any(_ROUTE_N_HEADER.match(line) for line in lines[:3]) or _share(
            [ln for ln in lines if not _ROUTE_TITLE.match(ln)], _ROUTE_N_ROW, 0.8):
        return "route_n"
    if any(_PROC_ROUTE_HEADER.match(line) for line in lines[:3]):
        return "proc_net_route"
    if _share(lines, _IP_RULE, 0.8):
        return "ip_rule"
    main = [ln for ln in lines if not _ROUTE_SUBLINE.match(ln)]
    if main and _share(main, _ROUTE_LINE, 0.8):
        return "ip_route"
    return None


def _firewall(lines: list[str], _name: str) -> str | None:
    save = [ln for ln in lines if not _SAVE_OTHER.match(ln)]
    is_save = any(_SAVE_TABLE.match(line) for line in lines) and any(
        _SAVE_CHAIN.match(line) or line.startswith("-A ") for line in lines)
    # headerless fragments (`iptables -S`, `iptables-save | grep X`, `-c` lines without `*table`)
    if not is_save and save and _share(save, re.compile(f"{_SAVE_RULE.pattern}|{_SAVE_CHAIN.pattern}"), 0.8):
        is_save = any(line.lstrip("[0123456789:] ").startswith(("-A", "-P", "-N")) for line in save)
    if is_save:
        v6 = any(line.startswith("# Generated by ip6tables") for line in lines[:3]) or any(
            re.search(r"\s-[sd] [0-9a-fA-F:]*:[0-9a-fA-F:]*/\d+", line) for line in lines
        )
        return "ip6tables_save" if v6 else "iptables_save"
    if any(_LIST_CHAIN.match(line) for line in lines[:3]) or (
            any(_LIST_CHAIN.match(line) for line in lines) and any(_LIST_HEADER.match(line) for line in lines)):
        return "iptables_list"
    if _IPSET.match(lines[0]):
        return "ipset"
    return None


def _links(lines: list[str], _name: str) -> str | None:
    if _share(lines, _ONELINE_ADDR, 0.8):
        return "ip_addr"
    if _share(lines, _ONELINE_LINK, 0.8):
        return "ip_link"
    if not _LINK_HEAD.match(lines[0]):
        return None
    if any(_ADDR_LINE.match(line) for line in lines):
        return "ip_addr"
    if any(_STATS_LINE.match(line) for line in lines):
        return "ip_link_stats"
    return "ip_link"


def _neighbours(lines: list[str], _name: str) -> str | None:
    if _share(lines, _FDB, 0.8):
        return "bridge_fdb"
    if _share(lines, _NEIGH, 0.8):
        return "ip_neigh"
    return None


def _kernel(lines: list[str], name: str) -> str | None:
    if _LSMOD_HEADER.match(lines[0]):
        return "lsmod"
    if _ETHTOOL.match(lines[0]):
        return "ethtool"
    if _share(lines, _SYSCTL, 0.8):
        return "sysctl"
    if _share(lines, _DMESG, 0.6):
        return "dmesg"
    if _share(lines, _KERNEL_WORDS, 0.5) or ("dmesg" in name.lower() and _share(lines, _KERNEL_WORDS, 0.2)):
        return "dmesg"
    return None


def _flannel_logs(lines: list[str], _name: str) -> str | None:
    journal = sum(1 for line in lines if JOURNAL_LINE.match(line))
    status = sum(1 for line in lines if _STATUS_HEAD.match(line) or _CATALOG.match(line))
    if journal and journal + status >= 0.6 * len(lines):
        return "flannel_journal" if any(is_flannel_line(line) for line in lines) else None
    if _share(lines, _KLOG, 0.5) or _share(lines, _PREFIXED_KLOG, 0.5):
        return "flannel_pod_logs"
    return None


def _flannel_files(lines: list[str], name: str) -> str | None:
    text = "\n".join(lines)
    if lines[0].startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # a deeply nested paste is no net-conf.json either
            return None
        return "net_conf" if isinstance(value, dict) and "Network" in value else None
    if any(line.startswith("ExecStart=") for line in lines) and any(line.strip() == "[Service]" for line in lines):
        return "flannel_unit"
    if lines[0].rsplit("/", 1)[-1] == "flanneld" and len(lines) > 1 and all(
        _FLANNEL_ARG.match(line) for line in lines[1:]
    ):
        return "flannel_cmdline"
    keys = [m.group("key") for line in lines if (m := _ENV.match(line))]
    flannel_keys = [k for k in keys if k.startswith("FLANNEL")]
    if not flannel_keys or len(flannel_keys) < 0.5 * len(keys):
        return None
    if "FLANNEL_SUBNET" in keys and ("FLANNEL_NETWORK" in keys or "FLANNEL_MTU" in keys or "FLANNEL_IPMASQ" in keys):
        return "subnet_env"  # flannel <= 0.5.2 wrote FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ only
    lowered = name.lower()
    if "options" in lowered:
        return "options_env"
    if "sysconfig" in lowered or any(k.startswith("FLANNEL_ETCD") for k in keys):
        return "flannel_env_sysconfig"
    return "flannel_env_default"


def _identity(lines: list[str], name: str) -> str | None:
    if _UNAME.match(lines[0]):
        return "uname"
    env_keys = {m.group("key") for line in lines if (m := _ENV.match(line))}
    if {"ID", "NAME"} <= env_keys or "PRETTY_NAME" in env_keys:
        return "os_release"
    if len(lines) == 1 and _UPTIME.search(lines[0]):
        return "uptime"
    if len(lines) == 1 and _DATE.match(lines[0].strip()):
        return "date"
    if len(lines) == 1 and "hostname" in name.lower() and _HOSTNAME.match(lines[0].strip()):
        return "hostname"
    return None


SNIFFERS: tuple[Sniffer, ...] = (
    _firewall,
    _links,
    _flannel_files,
    _kernel,
    _flannel_logs,
    _neighbours,
    _routes,
    _identity,
)


def content_lines(lines: list[str]) -> list[str]:
    """The lines a sniffer looks at: not blank, not paste noise, not a tool's leading warnings."""
    out: list[str] = []
    for line in lines:
        if not line.strip() or is_noise(line):
            continue
        if not out and _TOOL_WARNING.match(line):
            continue
        out.append(line.rstrip())
        if len(out) >= HEAD_LINES:
            break
    return out


def sniff_lines(lines: list[str], name: str = "") -> str | None:
    """The source id the content of `lines` looks like, or None."""
    content = content_lines(lines)
    if not content:
        return None
    for sniffer in SNIFFERS:
        found = sniffer(content, name)
        if found:
            return found
    return None


def _blocks(lines: list[str], seg: Segment) -> list[tuple[int, int]]:
    """(first, last) of the blank-line-separated blocks of a segment."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(seg.first, seg.last + 1):
        if lines[i - 1].strip():
            if start is None:
                start = i
            end = i
        elif start is not None:
            out.append((start, end))
            start = None
    if start is not None:
        out.append((start, end))
    return out


def sniff_segments(text: str, name: str = "", lines: list[str] | None = None) -> list[tuple[Segment, str | None]]:
    """The parts of a file and the source id each holds (None: not recognised), in file order. `lines`,
    when given, is `split_lines(text)` already made by the caller."""
    if lines is None:
        lines = split_lines(text)
    out: list[tuple[Segment, str | None]] = []
    for seg in segments(lines):
        if seg.command is not None and (source := source_for(seg.command)) is not None:
            out.append((seg, source))
            continue
        whole = sniff_lines(lines[seg.first - 1:seg.last], name)
        blocks = _blocks(lines, seg)
        if len(blocks) < 2:  # one block: it is the whole segment, already sniffed
            out.append((seg, whole))
            continue
        kinds = [sniff_lines(lines[a - 1:b], name) for a, b in blocks]
        if all(k in (whole, None) for k in kinds):
            out.append((seg, whole))
            continue
        # several kinds of output pasted one after the other: one part per run of blocks of one kind
        current: str | None = None
        first = seg.first
        for (a, _b), kind in zip(blocks, kinds, strict=True):
            kind = kind or current
            if kind != current and a > first:
                end = max(b for (x, b) in blocks if x < a)
                out.append((Segment(first, end, seg.command if first == seg.first else None,
                                    seg.prompt_line if first == seg.first else None), current))
                first = a
            current = kind
        out.append((Segment(first, seg.last, seg.command if first == seg.first else None,
                            seg.prompt_line if first == seg.first else None), current))
    return out


def sniff(text: str, name: str = "") -> str | None:
    """The source id `text` looks like (`name` is the file name, used only as a tie-breaker): the
    kind of its first part (see `sniff_segments`)."""
    for _seg, source in sniff_segments(text, name):
        return source
    return None
