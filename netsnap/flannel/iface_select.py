"""Which external interface and address flanneld would choose on a host (flannel.md §2).

Recomputes `main.go` + `ipmatch.LookupExtIface` from the host's routes, addresses and the effective
flags, in flanneld's order:

1. `--iface` values in order (an IPv4 address: the interface that owns it, and that address; a name:
   that interface and its first IPv4 address), then each `--iface-regex` (tried against every IPv4
   address, then against every interface name), then `--iface-can-reach` (longest-prefix match in the
   main table, like `ip route get`: the route's device and its `src`, else the device's first IPv4
   address). The first candidate that works wins; if none does, flanneld exits.
2. No selector: with `--public-ip`, the interface that owns it; otherwise the first default route of
   the main table (the kernel lists defaults by ascending metric, so the lowest metric) and its device.
   A multipath or device-less default fails with "found default route but could not determine interface".
3. External address: `--public-ip` if given, else the interface address.

"First IPv4 address" is the first `inet` line of `ip addr` for the device (netlink's order); when the
device has several, the reasoning says so (secondaries and VIPs move with address order).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from netsnap.model.base import Provenance
from netsnap.model.flannel import FlagValue, FlannelConfig, Selection
from netsnap.model.host import Host
from netsnap.model.interfaces import IfAddress, Interface
from netsnap.model.routes import Route


def _ipv4(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text.strip())
    except ValueError:
        return None


def _v4_addresses(iface: Interface) -> list[IfAddress]:
    return [a for a in iface.addresses if isinstance(a.address, IPv4Interface)]


def _interfaces(host: Host) -> list[Interface]:
    """Interfaces in kernel order (by index when known, else as listed)."""
    items = list(host.interfaces.values())
    return sorted(items, key=lambda i: i.index if i.index is not None else 1 << 30)


class _Chooser:
    def __init__(self, host: Host, config: FlannelConfig | None) -> None:
        self.host = host
        self.config = config
        self.sel = Selection()

    # -- helpers -------------------------------------------------------------------------------------
    def say(self, text: str, *evidence: Provenance | None) -> None:
        self.sel.reasoning.append(text)
        for ev in evidence:
            if ev is not None and ev not in self.sel.evidence:
                self.sel.evidence.append(ev)

    def first_address(self, iface: Interface) -> IfAddress | None:
        addrs = _v4_addresses(iface)
        if not addrs:
            return None
        if len(addrs) > 1:
            listed = ", ".join(f"{a.address}{' (secondary)' if a.secondary else ''}" for a in addrs)
            self.say(f"{iface.name} has {len(addrs)} IPv4 addresses ({listed}); flanneld takes the first, "
                     f"{addrs[0].address.ip}", *(a.src for a in addrs))
        return addrs[0]

    def choose(self, method: str, iface: Interface, address: IPv4Address, *evidence: Provenance | None) -> None:
        self.sel.iface = iface.name
        self.sel.address = address
        self.sel.method = method  # type: ignore[assignment]  # callers pass SelectionMethod literals
        self.say(f"chosen: {iface.name} with address {address} ({method})", *evidence)

    # -- selectors -----------------------------------------------------------------------------------
    def by_iface(self, fv: FlagValue) -> bool:
        value = fv.value
        ip = _ipv4(value)
        if ip is not None:
            for iface in _interfaces(self.host):
                for addr in _v4_addresses(iface):
                    if addr.address.ip == ip:
                        self.choose("iface", iface, ip, fv.src, addr.src)
                        return True
            self.say(f"--iface={value}: no interface has this address (flanneld logs: Could not find valid "
                     f"interface matching {value})", fv.src)
            return False
        named = self.host.interfaces.get(value)
        if named is None:
            self.say(f"--iface={value!r}: no interface of that name (flanneld logs: Could not find valid interface "
                     f"matching {value})", fv.src)
            return False
        first = self.first_address(named)
        if first is None:
            self.say(f"--iface={value}: {value} has no IPv4 address (failed to find IPv4 address for interface "
                     f"{value})", fv.src, named.src)
            return False
        self.choose("iface", named, IPv4Address(first.address.ip), fv.src, first.src)
        return True

    def by_regex(self, fv: FlagValue) -> bool:
        try:
            pattern = re.compile(fv.value)
        except re.error as exc:
            self.say(f"--iface-regex={fv.value!r} is not a valid regular expression ({exc})", fv.src)
            return False
        for iface in _interfaces(self.host):
            for addr in _v4_addresses(iface):
                if pattern.search(str(addr.address.ip)):
                    self.choose("iface-regex", iface, IPv4Address(addr.address.ip), fv.src, addr.src)
                    return True
        for iface in _interfaces(self.host):
            if pattern.search(iface.name):
                first = self.first_address(iface)
                if first is None:
                    continue
                self.choose("iface-regex", iface, IPv4Address(first.address.ip), fv.src, first.src)
                return True
        self.say(f"--iface-regex={fv.value!r}: could not match pattern to any of the available network interfaces",
                 fv.src)
        return False

    def by_can_reach(self, fv: FlagValue) -> bool:
        target = _ipv4(fv.value)
        if target is None:
            self.say(f"--iface-can-reach={fv.value!r} is not an IPv4 address", fv.src)
            return False
        route = self.lookup(target)
        if route is None or route.dev is None:
            self.say(f"--iface-can-reach={fv.value}: no route to {target} in the main table", fv.src)
            return False
        iface = self.host.interfaces.get(route.dev)
        if isinstance(route.prefsrc, IPv4Address):
            if iface is None:
                self.say(f"route to {target} uses {route.dev}, which is not among the captured interfaces", route.src)
                return False
            self.choose("can-reach", iface, route.prefsrc, fv.src, route.src)
            return True
        if iface is None:
            self.say(f"route to {target} uses {route.dev}, which is not among the captured interfaces", route.src)
            return False
        addr = self.first_address(iface)
        if addr is None:
            self.say(f"route to {target} uses {route.dev}, which has no IPv4 address", route.src)
            return False
        self.choose("can-reach", iface, IPv4Address(addr.address.ip), fv.src, route.src, addr.src)
        return True

    def lookup(self, target: IPv4Address) -> Route | None:
        best: Route | None = None
        for r in self.main_v4_routes():
            if r.type != "unicast" or target not in r.dst:
                continue
            if best is None or r.dst.prefixlen > best.dst.prefixlen or (
                    r.dst.prefixlen == best.dst.prefixlen and r.metric < best.metric):
                best = r
        if best is not None:
            self.say(f"route lookup for {target}: {best.raw.strip() or best.dst} (dev {best.dev})", best.src)
        return best

    def main_v4_routes(self) -> list[Route]:
        return [r for r in self.host.routes_in("main") if isinstance(r.dst, IPv4Network)]

    def by_public_ip(self, fv: FlagValue, ip: IPv4Address) -> bool:
        for iface in _interfaces(self.host):
            for addr in _v4_addresses(iface):
                if addr.address.ip == ip:
                    self.choose("public-ip", iface, ip, fv.src, addr.src)
                    return True
        self.sel.error = (f"--public-ip={ip} is on no interface of this host: flanneld exits with "
                          "'Failed to find any valid interface to use' (releases before v0.8 used the "
                          "default-route interface instead)")
        self.say(self.sel.error, fv.src)
        return False

    def by_default_route(self) -> bool:
        if not self.host.routes:
            self.sel.error = "no routes captured: the default-route interface cannot be recomputed"
            self.say(self.sel.error)
            return False
        defaults = sorted((r for r in self.main_v4_routes() if r.dst.prefixlen == 0), key=lambda r: r.metric)
        if not defaults:
            self.sel.error = ("failed to get default interface: unable to find default route (no IPv4 default "
                              "route in the main table)")
            self.say(self.sel.error)
            return False
        route = defaults[0]
        self.say("no --iface, --iface-regex, --iface-can-reach or --public-ip: flanneld takes the first default "
                 "route of the main table", route.src)
        if len(defaults) > 1:
            others = ", ".join(f"{r.dev or 'multipath'} metric {r.metric}" for r in defaults[1:])
            self.say(f"{len(defaults)} default routes; the lowest metric ({route.dev} metric {route.metric}) comes "
                     f"first (others: {others})", *(r.src for r in defaults[1:]))
        if route.nexthops or route.dev is None or route.type != "unicast":
            self.sel.error = ("found default route but could not determine interface (a multipath or device-less "
                              "default route)")
            self.say(self.sel.error, route.src)
            return False
        iface = self.host.interfaces.get(route.dev)
        if iface is None:
            self.sel.error = f"the default route uses {route.dev}, which is not among the captured interfaces"
            self.say(self.sel.error, route.src)
            return False
        addr = self.first_address(iface)
        if addr is None:
            self.sel.error = f"failed to find IPv4 address for interface {route.dev}"
            self.say(self.sel.error, route.src)
            return False
        self.choose("default-route", iface, IPv4Address(addr.address.ip), route.src, addr.src)
        return True

    # -- the algorithm -------------------------------------------------------------------------------
    def run(self) -> Selection:
        cfg = self.config
        if not self.host.interfaces:
            self.sel.error = "no interfaces captured (ip addr): the selection cannot be recomputed"
            self.say(self.sel.error)
            return self.sel
        hidden_by = [u for u in (cfg.unknown if cfg else []) if u in _SELECTORS or u.startswith("$")]
        if hidden_by:
            self.say(f"flanneld's interface flags are unknown ({', '.join(hidden_by)}: set by an EnvironmentFile "
                     "the bundle does not hold): the interface it uses cannot be recomputed")
            return self.sel
        ifaces = cfg.values("iface") if cfg else []
        regexes = cfg.values("iface-regex") if cfg else []
        can_reach = cfg.flags.get("iface-can-reach") if cfg else None
        if can_reach is not None and not can_reach.value:
            can_reach = None
        public = cfg.flags.get("public-ip") if cfg else None
        if public is not None and not public.value:
            public = None
        public_ip: IPv4Address | None = None
        if public is not None:
            public_ip = _ipv4(public.value)
            if public_ip is None:
                self.sel.error = f"--public-ip={public.value!r} is not an IPv4 address: flanneld exits"
                self.say(self.sel.error, public.src)
                return self.sel
        if cfg is not None and cfg.ignored:
            hidden = [a for a in cfg.ignored if a.lstrip("-").split("=", 1)[0] in ("iface", "iface-regex",
                                                                                    "iface-can-reach", "public-ip")]
            if hidden:
                self.say(f"flanneld never reads {' '.join(hidden)}: its flag parser stopped before it "
                         f"(ignored: {' '.join(cfg.ignored)})")
        if ifaces or regexes or can_reach:
            done = (any(self.by_iface(fv) for fv in ifaces) or any(self.by_regex(fv) for fv in regexes)
                    or (can_reach is not None and self.by_can_reach(can_reach)))
            if not done:
                self.sel.error = "Failed to find interface to use that matches the interfaces and/or regexes provided"
                self.say(self.sel.error)
                return self.sel
        elif public is not None and public_ip is not None:
            if not self.by_public_ip(public, public_ip):
                return self.sel
        elif not self.by_default_route():
            return self.sel
        if public_ip is not None and public is not None:
            self.sel.external_address = public_ip
            self.say(f"external address = --public-ip {public_ip}", public.src)
        else:
            self.sel.external_address = self.sel.address
            self.say(f"external address defaults to the interface address {self.sel.address}")
        return self.sel


_SELECTORS = ("iface", "iface-regex", "iface-can-reach", "public-ip")


def choose_external(host: Host, config: FlannelConfig | None) -> Selection:
    """What flanneld would choose on `host` under `config` (None = no flags: auto-selection)."""
    return _Chooser(host, config).run()
