"""iptables rulesets: tables, chains with policies, rules with their matches broken out.

`iptables-save` (with or without `-c` counters, legacy or nft) and the list format
(`iptables -nvL` / `-vnxL`, what sosreports hold) both become this model.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from netsnap.model.base import Provenance, Record


class AddrMatch(BaseModel):
    """`[!] -s/-d NET`."""

    model_config = ConfigDict(extra="forbid")

    net: IPv4Network | IPv6Network
    negated: bool = False


class NameMatch(BaseModel):
    """`[!] -i/-o IFACE` (may end in `+`) or `[!] -p PROTO`."""

    model_config = ConfigDict(extra="forbid")

    value: str
    negated: bool = False


class MatchOption(BaseModel):
    """One option of a match module, e.g. `--dport 8472` or `! --ctstate NEW`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    values: list[str] = Field(default_factory=list)
    negated: bool = False


class MatchModule(BaseModel):
    """One `-m NAME ...` block (or an implicit protocol match such as `-p udp --dport`).

    `known` is False for modules the model does not interpret; they are kept verbatim in `text`
    and make the trace engine answer "unknown" rather than guess.
    """

    model_config = ConfigDict(extra="forbid")

    module: str
    options: list[MatchOption] = Field(default_factory=list)
    known: bool = True
    text: str = ""

    def option(self, name: str) -> MatchOption | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None


class Target(BaseModel):
    """`-j NAME opts` or `-g NAME`; options are parsed into `options` (e.g. `reject-with`)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    goto: bool = False
    options: dict[str, str] = Field(default_factory=dict)
    text: str = ""


class IptRule(Record):
    """One rule, in chain order (`position` is 1-based within its chain)."""

    table: str
    chain: str
    position: int
    source: AddrMatch | None = None
    destination: AddrMatch | None = None
    in_iface: NameMatch | None = None
    out_iface: NameMatch | None = None
    protocol: NameMatch | None = None
    fragment: bool | None = None
    matches: list[MatchModule] = Field(default_factory=list)
    target: Target | None = None
    packets: int | None = None
    bytes: int | None = None

    @property
    def comment(self) -> str | None:
        for m in self.matches:
            if m.module == "comment":
                opt = m.option("comment")
                if opt and opt.values:
                    return opt.values[0]
        return None


class PendingRules(Protocol):
    """A chain's rules not built yet (a parser's lazy holder): how many, and how to build them."""

    def __len__(self) -> int: ...

    def build(self) -> list[IptRule]: ...

    def declared_at(self) -> Provenance: ...

    def raws(self) -> list[str]: ...

    def may_mention(self, word: str) -> bool: ...


_UNSET_NONE = frozenset({"policy", "packets", "bytes"})


class Chain(BaseModel):
    """A chain: built-in chains have a policy (ACCEPT/DROP), user chains have None."""

    # (Not in the docstring, which `netsnap schema` prints.) A parser may leave `rules` unbuilt: a
    # PendingRules in `__dict__["_pending"]` keeps their lines, and the rules are built, once, on the
    # first read of `rules` (attribute, `model_dump`, `==`), so every reader sees what an eager parse
    # gives; `rule_count()`, `rule_raws()` and `may_mention()` do not build them. Until then `src` and the
    # fields that are None (_UNSET_NONE) may be left out of __dict__ too (5 keys fit a 184-byte dict, 6 take
    # 272): they are served by __getattr__ and filled in with the rules. A trace reaches few of
    # kube-proxy's 50k chains.

    model_config = ConfigDict(extra="forbid")

    name: str
    policy: str | None = None
    packets: int | None = None
    bytes: int | None = None
    rules: list[IptRule] = Field(default_factory=list)
    src: Provenance

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    def rule_count(self) -> int:
        """How many rules the chain holds, without building pending ones."""
        rules = self.__dict__.get("rules")
        if rules is not None:
            return len(rules)
        return len(self._pending_rules())

    def rule_raws(self) -> list[str]:
        """Each rule's text as the dump holds it (`IptRule.raw`), without building pending rules."""
        rules = self.__dict__.get("rules")
        if rules is not None:
            return [r.raw for r in rules]
        return self._pending_rules().raws()

    def may_mention(self, word: str) -> bool:
        """False when no rule's text holds `word` or a backslash (so neither can a comment read from it);
        True when one may. Pending rules are not built to tell."""
        rules = self.__dict__.get("rules")
        if rules is not None:
            return any(word in r.raw or "\\" in r.raw for r in rules)
        return self._pending_rules().may_mention(word)

    def is_built(self) -> bool:
        return "rules" in self.__dict__

    def _pending_rules(self) -> PendingRules:
        # kept in __dict__ beside the fields (an instance's private dict would cost 184 bytes more a
        # chain); pydantic's repr and iteration skip `_` names, and serializing or comparing builds first
        pending: PendingRules | None = self.__dict__.get("_pending")
        if pending is None:
            raise AttributeError(f"chain {self.name} has neither rules nor pending rules")
        return pending

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__
        if "_pending" in values:  # only fields of a chain whose rules are pending can be absent
            if name == "rules":
                pending = self._pending_rules()
                rules = pending.build()
                complete: dict[str, Any] = {}  # the fields only, in field order: as an eager chain's
                for key in type(self).model_fields:
                    if key == "rules":
                        complete[key] = rules
                    elif key in values:
                        complete[key] = values[key]
                    else:
                        complete[key] = pending.declared_at() if key == "src" else None
                values.clear()
                values.update(complete)
                return rules
            if name == "src":
                src = values["src"] = self._pending_rules().declared_at()
                return src
            if name in _UNSET_NONE:
                return None
        return super().__getattr__(name)  # type: ignore[misc]

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> Any:
        self.rules  # noqa: B018  (builds pending rules: the serializer reads __dict__ directly)
        return handler(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Chain):
            self.rules  # noqa: B018
            other.rules  # noqa: B018
        return super().__eq__(other)


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    chains: dict[str, Chain] = Field(default_factory=dict)
    src: Provenance


class IpSet(Record):
    """One set of `ipset save`: `create NAME TYPE OPTIONS...` and its `add NAME MEMBER...` lines.

    `options` keeps the create options (`family inet`, `hashsize 1024`, bare flags map to "").
    `members` are the member texts as written (`10.0.0.1`, `10.244.0.0/16,tcp:80`).
    """

    name: str
    set_type: str
    options: dict[str, str] = Field(default_factory=dict)
    members: list[str] = Field(default_factory=list)


Backend = Literal["legacy", "nf_tables", "unknown"]


class Ruleset(BaseModel):
    """All tables of one dump. `variant` says which command produced it.

    `variant` is one of "iptables", "iptables-legacy", "iptables-nft", "ip6tables", "list".
    `warnings` keeps lines such as "# Warning: iptables-legacy tables present".
    """

    model_config = ConfigDict(extra="forbid")

    variant: str
    family: Literal["ipv4", "ipv6"] = "ipv4"
    backend: Backend = "unknown"
    version: str | None = None
    tables: dict[str, Table] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    file: str

    def chain(self, table: str, chain: str) -> Chain | None:
        t = self.tables.get(table)
        return t.chains.get(chain) if t else None

    def rule_count(self) -> int:
        return sum(c.rule_count() for t in self.tables.values() for c in t.chains.values())
