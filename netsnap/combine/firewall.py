"""Which IPv4 iptables views a host enforces (one documented policy for legacy and nft views).

The kernel runs every loaded table: with iptables-legacy *and* iptables-nft tables present, a packet
passes through both, and a DROP in either drops it. A bundle can hold several dumps of the same
rules, so the views are combined as follows:

1. Save-format dumps (`iptables-save`, `iptables-nft-save`, `iptables-legacy-save`) are the views.
   `iptables-save` is whichever backend its header names; when the explicit dump of that backend
   is also present, the two are one view (`iptables-save`'s is kept: it is the file people know).
   Dumps whose rules are identical to a kept view are the same view.
2. The list format (`iptables -nvL`, what sosreports hold) is used only when no save-format dump
   was read: it cannot say which backend it shows, and it is the same rules again.
3. A view the bundle shows exists but did not capture (`# Warning: iptables-legacy tables present`
   with no legacy dump) is reported in `missing`, so the trace can say the packet's fate is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsnap.model import Host, Ruleset

SAVE_VARIANTS = ("iptables", "iptables-nft", "iptables-legacy")
_LEGACY_WARNING = "iptables-legacy tables present"


@dataclass
class FirewallViews:
    """The enforced IPv4 views (name -> ruleset) and the views known to exist but not captured."""

    views: dict[str, Ruleset] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _signature(rs: Ruleset) -> tuple[str, ...]:
    """The ruleset's chains, policies and rule texts (counters left out): equal for the same rules."""
    return tuple(
        f"{t.name}/{c.name}:{c.policy}:" + "|".join(raw.split("]", 1)[-1].strip() for raw in c.rule_raws())
        for t in rs.tables.values()
        for c in t.chains.values()
    )


def _view_name(rs: Ruleset) -> str:
    if rs.variant == "iptables":
        return {"nf_tables": "iptables-nft", "legacy": "iptables-legacy"}.get(rs.backend, "iptables")
    return rs.variant


def enforced_views(host: Host) -> FirewallViews:
    """The IPv4 iptables views `host` enforces, by the policy in the module docstring."""
    out = FirewallViews()
    kept: list[Ruleset] = []
    signatures: dict[int, tuple[str, ...]] = {}  # made only when a second dump is compared (one dump is the rule)

    def signature(rs: Ruleset) -> tuple[str, ...]:
        got = signatures.get(id(rs))
        if got is None:
            got = signatures[id(rs)] = _signature(rs)
        return got

    for variant in SAVE_VARIANTS:
        rs = host.iptables.get(variant)
        if rs is None or rs.family != "ipv4":
            continue
        name = _view_name(rs)
        if name in out.views or any(signature(rs) == signature(other) for other in kept):
            continue
        kept.append(rs)
        out.views[name] = rs
    if not out.views:
        listed = host.iptables.get("list")
        if listed is not None and listed.family == "ipv4":
            out.views["iptables"] = listed
    warned = any(_LEGACY_WARNING in w for rs in out.views.values() for w in rs.warnings)
    if warned and "iptables-legacy" not in out.views:
        out.missing.append("iptables-legacy")
    return out
