"""nftables rulesets (`nft -j list ruleset`, `nft [-a] list ruleset`): tables by family, chains,
rules with their statements broken out, named sets and maps.

Both the JSON and the text parser produce this model. Values keep nft's own spelling, so the trace
engine and the reports read them the same way whatever the source: an address `10.0.0.1`, a prefix
`10.244.0.0/16`, a range `1000-2000`, an interface name `eth0` or a wildcard `veth*`, a concatenated
element `10.0.0.1 . tcp . 443` (parts joined by " . ", as nft writes them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from netsnap.model.base import Provenance, Record

NftFamily = Literal["ip", "ip6", "inet", "arp", "bridge", "netdev"]
FAMILIES: tuple[str, ...] = ("ip", "ip6", "inet", "arp", "bridge", "netdev")

ExprKind = Literal[
    "match",  # `left op right`: a payload/meta/ct/fib... selector compared with values or a named set
    "vmap",  # `left vmap { k : verdict, ... }` or `left vmap @map`
    "verdict",  # accept, drop, reject, jump, goto, return, continue, queue
    "nat",  # dnat, snat, masquerade, redirect
    "mangle",  # `meta mark set V`, `ct mark set V`...: changes the packet, never decides
    "counter",
    "log",
    "limit",  # `limit rate N/unit`: matches while under the rate (not simulated)
    "xt",  # an iptables-nft compatibility expression (`xt match "conntrack"`): its options are not listed
    "other",  # a statement that cannot change the packet's fate (notrack, ct helper set, nftrace...)
    "unknown",  # not understood: kept verbatim in `text`
]
VERDICTS = ("accept", "drop", "reject", "jump", "goto", "return", "continue", "queue")


class NftExpr(BaseModel):
    """One statement of a rule, in rule order.

    - match: `left` holds the selector keys as nft names them (`ip saddr`, `tcp dport`, `meta l4proto`,
      `meta iifname`, `ct state`, `fib daddr type`; several keys = a concatenation), `mask` a
      `& MASK` applied to the key first (`meta mark & 0x4000`), `op` one of == != < > <= >= in, and
      `right` the value or the elements of an anonymous set (`anonymous` True when written in braces),
      or `set_ref` a named set (`allowed_nets`, without the `@`).
    - vmap: `left` the key, `mapping` the (element, verdict text) pairs or `set_ref` a named map.
    - verdict: `verdict` (accept ... queue), `target` (the chain of jump/goto), `reject_with`
      (`icmpx admin-prohibited`, `icmp host-prohibited`, `tcp reset`; the kernel default is filled in
      for a bare `reject`).
    - nat: `verdict` the kind (dnat, snat, masquerade, redirect), `addr`/`port` the translation.
    - mangle: `left` the key set, `value` the new value.
    `text` is the statement in nft syntax; `known` is False when the parser kept it without
    understanding it (kind unknown, or a match whose selector or values it could not read).
    """

    model_config = ConfigDict(extra="forbid")

    kind: ExprKind
    text: str
    left: list[str] = Field(default_factory=list)
    mask: str | None = None
    op: str = "=="
    right: list[str] = Field(default_factory=list)
    anonymous: bool = False
    set_ref: str | None = None
    mapping: list[tuple[str, str]] = Field(default_factory=list)
    verdict: str | None = None
    target: str | None = None
    reject_with: str | None = None
    addr: str | None = None
    port: str | None = None
    value: str | None = None
    known: bool = True


class NftRule(Record):
    """One rule, in chain order (`position` is 1-based within its chain; `handle` the kernel's handle
    when the dump shows it: always in JSON, with `nft -a` in text)."""

    family: NftFamily
    table: str
    chain: str
    position: int
    handle: int | None = None
    exprs: list[NftExpr] = Field(default_factory=list)
    comment: str | None = None
    packets: int | None = None
    bytes: int | None = None

    @property
    def ref(self) -> str:
        """How findings cite the rule: `inet firewalld filter_IN_public handle 72` (or `rule N`)."""
        where = f"handle {self.handle}" if self.handle is not None else f"rule {self.position}"
        return f"{self.family} {self.table} {self.chain} {where}"


class NftChain(BaseModel):
    """A chain. Base chains have `type` (filter, nat, route), `hook` (prerouting, input, forward,
    output, postrouting, ingress, egress), `priority` (the number) and `priority_text` (as written:
    `filter + 10`, `-150`), `policy` (accept or drop) and, for netdev chains, `devices`."""

    model_config = ConfigDict(extra="forbid")

    family: NftFamily
    table: str
    name: str
    handle: int | None = None
    type: str | None = None
    hook: str | None = None
    priority: int | None = None
    priority_text: str | None = None
    policy: str | None = None
    devices: list[str] = Field(default_factory=list)
    rules: list[NftRule] = Field(default_factory=list)
    src: Provenance

    @property
    def base(self) -> bool:
        return self.hook is not None


class NftSet(BaseModel):
    """A named set or map. `key_type` lists the element types (several: a concatenation), `data_type`
    is a map's value type (`verdict`, `ipv4_addr`...); `elements` are the keys, `values` a map's values
    in the same order. `flags` as nft lists them (interval, constant, timeout, dynamic)."""

    model_config = ConfigDict(extra="forbid")

    family: NftFamily
    table: str
    name: str
    kind: Literal["set", "map"] = "set"
    handle: int | None = None
    key_type: list[str] = Field(default_factory=list)
    data_type: str | None = None
    flags: list[str] = Field(default_factory=list)
    elements: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    src: Provenance


class NftTable(BaseModel):
    """A table of one family. `compat` marks the tables iptables-nft creates (`ip filter`, `ip nat`...:
    their rules are also what `iptables-nft-save` prints, with the options `xt` expressions hide here)."""

    model_config = ConfigDict(extra="forbid")

    family: NftFamily
    name: str
    handle: int | None = None
    flags: list[str] = Field(default_factory=list)
    chains: dict[str, NftChain] = Field(default_factory=dict)
    sets: dict[str, NftSet] = Field(default_factory=dict)
    compat: bool = False
    src: Provenance

    @property
    def key(self) -> str:
        return f"{self.family} {self.name}"


class NftRuleset(BaseModel):
    """Every table of one dump. `origin` is `json` or `text`; `version` nft's (JSON metainfo);
    `unknown` counts the statements kept verbatim without being understood."""

    model_config = ConfigDict(extra="forbid")

    origin: Literal["json", "text"]
    version: str | None = None
    tables: dict[str, NftTable] = Field(default_factory=dict)
    unknown: int = 0
    file: str

    def table(self, family: str, name: str) -> NftTable | None:
        return self.tables.get(f"{family} {name}")

    def rule_count(self) -> int:
        return sum(len(c.rules) for t in self.tables.values() for c in t.chains.values())

    def base_chains(self) -> list[NftChain]:
        return [c for t in self.tables.values() for c in t.chains.values() if c.base]
