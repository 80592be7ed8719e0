"""NS308: flannel options silently ignored (stray word, ${VAR}, shadowed env variable, RPM prefix mismatch)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from netsnap.engine.findings import Confidence, Finding, Severity
from netsnap.engine.meta import Category, RuleMeta
from netsnap.engine.rule import Rule, RuleContext, evidence_at
from netsnap.flannel.effective import config_drift
from netsnap.model import FlannelConfig, Host, Provenance
from netsnap.model.evidence import Evidence
from netsnap.sources import host_path

_WHERE = re.compile(r"\(([\w./-]+):(\d+)\)")
_SERIOUS = re.compile(r"ignores|ONE argument|fails to start|several flags|Key not found|prefix", re.I)


class FlannelConfigIgnored(Rule):
    meta = RuleMeta(
        id="NS308",
        name="flannel-config-ignored",
        title="flanneld silently ignores some of its options",
        cause="flannel-config-ignored",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        category=Category.FLANNEL,
        requires_any=(("flannel_config",),),
        applies="overlay",
        what=(
            "Recomputes flanneld's effective flags the way systemd and Go's flag package do (env files, the unit's "
            "`$VAR`/`${VAR}` expansion, the RPM wrapper, `FLANNELD_*` variables, the running command line) and "
            "reports every option that never takes effect: arguments after a stray word (Go stops parsing at the "
            "first non-flag, e.g. `--ip-masq true`), several flags passed as one argument by `${VAR}`, an "
            "environment variable shadowed by a command-line flag, an etcd prefix that differs from where the "
            "config was written (RPM `/atomic.io/network` vs `/coreos.com/network`), and flags whose running value "
            "differs from the files (flanneld not restarted after a change)."
        ),
        why=(
            "The engineer believes flannel runs with `--iface=eth1`, but flanneld never saw it: it keeps choosing "
            "the default-route NIC, the wrong etcd prefix, or its defaults, and nothing is logged about the lost "
            "option."
        ),
        example=(
            "```\n/etc/sysconfig/flanneld:4: FLANNEL_OPTIONS=\"--ip-masq true --iface=eth1\"\n"
            "flanneld ignores '--iface=eth1': the word 'true' is not a flag\n```"
        ),
        fix=(
            "Write boolean flags with `=` (`--ip-masq=true`), use `$FLANNEL_OPTIONS` (not `${FLANNEL_OPTIONS}`) in "
            "ExecStart when the variable holds several flags, set each option in one place only, and make "
            "`-etcd-prefix` match the key the network config was written to; then `systemctl daemon-reload && "
            "systemctl restart flanneld`."
        ),
        references=(
            "https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md#key-command-line-options",
            "https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md#environment-variables",
            "https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#Command%20lines",
            "https://pkg.go.dev/flag#hdr-Command_line_flag_syntax",
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        host = ctx.the_host
        configs = [c for c in (host.flannel.files_config, host.flannel.process_config) if c is not None]
        problems: list[str] = []
        ev: list[Evidence] = []
        serious = False
        for cfg in configs:
            for p in cfg.problems:
                if p in problems:
                    continue
                problems.append(p)
                serious = serious or bool(_SERIOUS.search(p))
                for file, line in _WHERE.findall(p)[:2]:
                    ev.append(evidence_at(host, Provenance(file=file, line=int(line)), p))
            for fv in cfg.shadowed:
                ev.append(evidence_at(host, fv.src, f"{fv.name}={fv.value}   (shadowed by the command line)"))
            serious = serious or bool(cfg.ignored)
            if cfg.ignored and not cfg.problems:
                problems.append(f"flanneld ignores {' '.join(cfg.ignored)!r} ({_origin(cfg)})")
        drift = config_drift(host.flannel.files_config, host.flannel.process_config)
        for d in drift:
            if d not in problems:
                problems.append(d)
                for file, line in _WHERE.findall(d)[:2]:
                    ev.append(evidence_at(host, Provenance(file=file, line=int(line)), d))
        if not problems:
            return
        ev = list(dict.fromkeys(ev))
        yield self.finding(
            hosts=[host.name],
            key=f"{host.name}-config",
            severity=Severity.ERROR if serious else Severity.WARNING,
            explanation=(
                f"flanneld on {host.name} does not run with the options its configuration seems to give it: "
                + " ".join(p if p.endswith(".") else p + "." for p in problems[:4])
            ),
            evidence=ev,
            remediation=[
                *_where_to_edit(host, ev),
                "# write boolean flags with '=' (--ip-masq=true), keep one flag per word, and in ExecStart use "
                "$FLANNEL_OPTIONS (split) rather than ${FLANNEL_OPTIONS} (one argument)",
                "systemctl daemon-reload && systemctl restart flanneld",
                "tr '\\0' ' ' < /proc/$(pidof flanneld)/cmdline   # verify what it runs with",
            ],
            path=ctx.cluster.path(host),
            impact=40,
        )


def _where_to_edit(host: Host, ev: list[Evidence]) -> list[str]:
    """`# edit /etc/sysconfig/flanneld (line 4)`: the host files the quoted lines are in (the unit as
    `systemctl edit --full flanneld`), not their bundle paths."""
    by_file = {st.file: sid for sid, st in host.sources.items() if st.file}
    places: dict[str, list[int]] = {}
    for e in ev:
        sid = by_file.get(e.file, "")
        if sid == "flannel_unit":
            where = "the unit (systemctl edit --full flanneld)"
        elif sid == "flannel_cmdline":
            continue  # the running process: fixed by the files and a restart
        else:
            where = host_path(e.file) or host_path(sid) or e.file
        places.setdefault(where, [])
        if e.line and e.line not in places[where]:
            places[where].append(e.line)
    return [f"# edit {where}" + (f" (line {', '.join(map(str, lines))})" if lines else "")
            for where, lines in places.items()]


def _origin(cfg: FlannelConfig) -> str:
    return str(cfg.src) if cfg.src else cfg.origin


rule = FlannelConfigIgnored()
