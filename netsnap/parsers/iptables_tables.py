"""Which table a dump's chains belong to, when the dump does not say (`iptables -S`, grep fragments, pastes).

Built-in chains and targets tell: PREROUTING/POSTROUTING are never filter's, FORWARD with them is
mangle, PREROUTING and OUTPUT alone are raw's; targets such as DNAT, TOS or CT are allowed in one
table only. INPUT or OUTPUT alone, and user chains with ordinary targets, do not tell.
"""

from __future__ import annotations

BUILTIN_CHAINS = frozenset({"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"})
TABLES = ("filter", "nat", "mangle", "raw", "security")
# targets only one table's chains can use (iptables refuses them elsewhere)
TABLE_TARGETS = {
    "nat": frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}),
    # (MARK and CONNMARK are allowed in every table: kube-proxy marks in nat and filter)
    "mangle": frozenset({"TOS", "TTL", "HL", "DSCP", "ECN", "TPROXY", "CHECKSUM", "TEE"}),
    "raw": frozenset({"NOTRACK", "CT"}),
}
ALL_TABLE_TARGETS = frozenset().union(*TABLE_TARGETS.values())


def table_for_chains(builtins: set[str], targets: set[str]) -> tuple[str | None, str]:
    """The table a listing's built-in chains and targets show, and why (None: they do not tell)."""
    for table, only in TABLE_TARGETS.items():
        if targets & only and not any(targets & other for name, other in TABLE_TARGETS.items() if name != table):
            return table, f"its targets ({', '.join(sorted(targets & only))})"
    if not builtins:
        return None, ""
    if builtins == {"PREROUTING", "OUTPUT"}:
        return "raw", "its built-in chains (PREROUTING, OUTPUT)"
    if "FORWARD" in builtins and builtins & {"PREROUTING", "POSTROUTING"}:
        return "mangle", "its built-in chains (FORWARD with PREROUTING/POSTROUTING)"
    if builtins & {"PREROUTING", "POSTROUTING"}:
        return "nat", "its built-in chains (PREROUTING/POSTROUTING without FORWARD)"
    if "FORWARD" in builtins or builtins == {"INPUT", "OUTPUT"}:
        return "filter", "its built-in chains (INPUT, FORWARD, OUTPUT)"
    return None, ""  # INPUT or OUTPUT alone: filter, nat, mangle and security all have them
