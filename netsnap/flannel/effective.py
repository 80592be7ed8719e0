"""flanneld's effective configuration, computed the way systemd, the RPM wrapper and Go's flag package would.

Two views of the same daemon (flannel.md §1, §3):

* `files_config(...)` (origin "files"): the environment the unit gives the process (`Environment=`,
  then `EnvironmentFile=` files in order, later ones win), its last `ExecStart=` expanded by systemd
  rules (`netsnap.flannel.systemd_exec`), the RPM `flanneld-start` wrapper applied, the arguments parsed
  by Go's flag rules (`netsnap.flannel.goflag`), then `FLANNELD_*` variables applied to the flags the
  command line did not set. Without a captured unit the distribution's usual one is assumed (RPM unit
  for /etc/sysconfig/flanneld, `flanneld $FLANNEL_OPTS` for /etc/default/flanneld, plain `flanneld`
  for CoreOS's options.env) and the assumption is written to `notes`.
* `process_config(...)` (origin "process"): the running process's argv from /proc. Its environment is
  not captured, so FLANNELD_* variables of the process are unknown (said in `notes`).

`problems` are sentences a rule can quote: arguments the flag parser never read, several flags
passed as one argument, a FLANNELD_* variable shadowed by a flag, unknown flags, an etcd prefix the
journal contradicts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from netsnap.flannel.flags import DEFAULT_ETCD_PREFIX, ENV_TO_FLAG, KNOWN_FLAGS, RPM_ETCD_PREFIX, go_bool, go_int
from netsnap.flannel.goflag import Arg, FlagParse, parse_flags
from netsnap.flannel.systemd_exec import Expansion, expand_exec_start
from netsnap.model.base import Provenance
from netsnap.model.flannel import FlagValue, FlannelConfig, FlannelEvent, ProcessArgv, SystemdUnit
from netsnap.model.host import Host

SYSCONFIG = "/etc/sysconfig/flanneld"
DEFAULT = "/etc/default/flanneld"
OPTIONS_ENV = "/run/flannel/options.env"

# env_files may be keyed by source id or by the path on the host.
SOURCE_PATHS = {
    "flannel_env_sysconfig": SYSCONFIG,
    "flannel_env_default": DEFAULT,
    "options_env": OPTIONS_ENV,
}

_KEY_NOT_FOUND = re.compile(r"Key not found \((/[^)\s]*)\)")
_SEVERAL_FLAGS = re.compile(r"\s-")


_PATH_SUFFIXES = (("sysconfig/flanneld", SYSCONFIG), ("sysconfig-flanneld", SYSCONFIG),
                  ("default/flanneld", DEFAULT), ("default-flanneld", DEFAULT), ("options.env", OPTIONS_ENV))


def _host_path(key: str) -> str:
    """A source id, a bundle member path (`flannel/etc-sysconfig-flanneld`, sos `etc/sysconfig/flanneld`)
    or a host path, as the path on the host."""
    if key in SOURCE_PATHS:
        return SOURCE_PATHS[key]
    for suffix, path in _PATH_SUFFIXES:
        if key.endswith(suffix):
            return path
    return key


def files_config_for(host: Host) -> FlannelConfig | None:
    """`files_config` from what the loader put in `host.flannel` (None when no flannel file was captured).

    `host.flannel.env_files` is keyed by bundle member path; the source statuses map those to source ids.
    """
    fl = host.flannel
    by_file = {st.file: sid for sid, st in host.sources.items() if st.file}
    env_files: dict[str, list[FlagValue]] = {}
    for key, values in fl.env_files.items():
        env_files[SOURCE_PATHS.get(by_file.get(key, ""), _host_path(key))] = list(values.values())
    if not env_files and fl.unit is None and not fl.options_env:
        return None
    return files_config(env_files, fl.unit, list(fl.options_env.values()), events=fl.events)


def _later_wins(values: Sequence[FlagValue]) -> dict[str, FlagValue]:
    out: dict[str, FlagValue] = {}
    for fv in values:
        out[fv.name] = fv
    return out


def files_config(
    env_files: dict[str, list[FlagValue]],
    unit: SystemdUnit | None,
    options_env: list[FlagValue],
    *,
    events: Sequence[FlannelEvent] = (),
) -> FlannelConfig:
    """The configuration the files on disk give flanneld at its next (re)start.

    `env_files` maps a host path (`/etc/sysconfig/flanneld`) or source id (`flannel_env_sysconfig`)
    to the FlagValues the `flannel_env` parser returned; `options_env` are those of
    `/run/flannel/options.env` (the `options_env` source); `events` (optional) are journal events used
    to cross-check the etcd prefix.
    """
    cfg = FlannelConfig(origin="files")
    files: dict[str, list[FlagValue]] = {_host_path(k): list(v) for k, v in env_files.items()}
    if options_env:
        files.setdefault(OPTIONS_ENV, list(options_env))
    env: dict[str, FlagValue] = {}
    command: str | None = None
    src: Provenance | None = None
    missing_file = False

    if unit is not None and unit.exec_start:
        command = unit.exec_start[-1]
        src = Provenance(file=unit.src.file, line=unit.exec_start_line or 0)
        if len(unit.exec_start) > 1:
            cfg.notes.append(f"the unit has {len(unit.exec_start)} ExecStart= lines; the last one is used")
        for name, value in unit.environment.items():
            env[name] = FlagValue(name=name, value=value, via="Environment=",
                                  src=Provenance(file=unit.src.file, line=unit.environment_lines.get(name, 0)))
        loaded: set[str] = set()
        for entry in unit.environment_files:
            path = entry.lstrip("-")
            if path in files:
                loaded.add(path)
                env.update(_later_wins(files[path]))
            else:
                missing_file = True
                cfg.notes.append(f"EnvironmentFile={entry} is not in the bundle: the variables it sets are unknown")
        for path in sorted(set(files) - loaded):
            if files[path]:
                cfg.notes.append(f"{path} is not loaded by the unit (no EnvironmentFile= for it): its variables do "
                                 "not reach flanneld")
    else:
        if unit is not None:
            cfg.notes.append(f"the unit ({unit.src}) has no ExecStart=; assuming the distribution's default command")
        command, env = _assumed_command(files, cfg)
        if command is None:
            cfg.notes.append("no flanneld unit and no flannel environment file captured: configuration unknown")
            return cfg

    cfg.env = dict(env)
    expansion = expand_exec_start(command, env, src or Provenance(file="(assumed unit)"), unknown=missing_file)
    _finish(cfg, expansion.argv, expansion, env, events)
    cfg.src = src
    # a flag whose text still holds a variable the bundle does not have: its value is unknown, not empty
    words = [w for w in expansion.unknown if w.startswith("${")]
    cfg.unknown = sorted({name for name in cfg.flags for fv in cfg.values(name) if any(w in fv.value for w in words)}
                         | {w for w in expansion.unknown if w.startswith("$") and not w.startswith("${")})
    return cfg


def _assumed_command(files: dict[str, list[FlagValue]], cfg: FlannelConfig) -> tuple[str | None, dict[str, FlagValue]]:
    if SYSCONFIG in files:
        cfg.notes.append(f"no unit captured: assumed the RPM unit (EnvironmentFile=-{SYSCONFIG}, "
                         "ExecStart=/usr/bin/flanneld-start $FLANNEL_OPTIONS)")
        if DEFAULT in files:
            cfg.notes.append(f"{DEFAULT} is ignored under that assumption")
        return "/usr/bin/flanneld-start $FLANNEL_OPTIONS", _later_wins(files[SYSCONFIG])
    if DEFAULT in files:
        env = _later_wins(files[DEFAULT])
        var = "FLANNEL_OPTS" if "FLANNEL_OPTS" in env or "FLANNEL_OPTIONS" not in env else "FLANNEL_OPTIONS"
        cfg.notes.append(f"no unit captured: assumed `flanneld ${var}` with {DEFAULT} loaded (the upstart job "
                         "and hand-made units do this)")
        return f"/usr/bin/flanneld ${var}", env
    if OPTIONS_ENV in files:
        cfg.notes.append(f"no unit captured: assumed `flanneld` with EnvironmentFile={OPTIONS_ENV} (CoreOS/Flatcar)")
        return "/usr/bin/flanneld", _later_wins(files[OPTIONS_ENV])
    return None, {}


def process_config(argv_items: Sequence[ProcessArgv], *, events: Sequence[FlannelEvent] = ()) -> FlannelConfig:
    """The configuration of the running flanneld, from the `flannel_cmdline` parser's items.

    The first process whose argv[0] names flanneld is used (others are noted). k3s/rke2 embed flannel
    and take different flags, so their command lines are not read as flanneld's.
    """
    cfg = FlannelConfig(origin="process")
    procs = [p for p in argv_items if p.argv]
    flanneld = [p for p in procs if "flanneld" in p.argv[0].rsplit("/", 1)[-1]]
    if not flanneld:
        if procs:
            cfg.notes.append(f"no flanneld process among the captured command lines ({procs[0].argv[0]!r}…)")
        else:
            cfg.notes.append("no running flanneld process captured")
        return cfg
    proc = flanneld[0]
    if len(flanneld) > 1:
        pids = ", ".join(str(p.pid) for p in flanneld)
        cfg.notes.append(f"several flanneld processes (pids {pids}); the first is used")
    file = proc.src.file
    args = [Arg(text, Provenance(file=file, line=line), "cmdline") for text, line in zip(proc.argv, proc.arg_lines,
                                                                                         strict=False)]
    cfg.src = proc.src
    cfg.notes.append("the process environment is not captured: FLANNELD_* variables of the running process are "
                     "unknown")
    _finish(cfg, args, None, {}, events)
    return cfg


def _finish(cfg: FlannelConfig, argv: list[Arg], expansion: Expansion | None, env: dict[str, FlagValue],
            events: Sequence[FlannelEvent]) -> None:
    cfg.argv = [a.text for a in argv]
    if expansion is not None:
        cfg.problems.extend(expansion.problems)
        cfg.notes.extend(expansion.notes)
    parsed = parse_flags(argv[1:])
    cfg.flags = dict(parsed.flags)
    cfg.repeated = {k: list(v) for k, v in parsed.repeated.items()}
    cfg.ignored = [a.text for a in parsed.ignored]
    cfg.problems.extend(parsed.problems)
    _ignored_problem(cfg, parsed)
    _one_argument_problems(cfg)
    _apply_env(cfg, env, set(parsed.flags))
    _prefix_problems(cfg, events)


def _ignored_problem(cfg: FlannelConfig, parsed: FlagParse) -> None:
    stop = parsed.stopped_at
    if stop is None or not parsed.ignored:
        return
    rest = [a.text for a in parsed.ignored if a is not stop] if stop.text != "--" else [a.text for a in parsed.ignored]
    where = f"from {stop.via} ({stop.src})"
    if stop.text == "--":
        why = "`--` ends the flags"
    elif stop.text == "":
        why = "an empty argument (an unset or empty ${VAR} in ExecStart) stops the flag parser"
    elif stop.text in ("true", "false", "1", "0"):
        why = (f"the word {stop.text!r} is not a flag: a boolean flag takes a value only with '=' "
               f"(e.g. --ip-masq={stop.text})")
    else:
        why = f"the word {stop.text!r} is not a flag and Go's flag parser stops there"
    if rest:
        cfg.problems.append(f"flanneld ignores {' '.join(rest)!r}: {why}; {where}")
    elif stop.text not in ("--",):
        cfg.problems.append(f"flanneld ignores the stray argument {stop.text!r} {where}")


def _one_argument_problems(cfg: FlannelConfig) -> None:
    for values in [cfg.values(name) for name in cfg.flags]:
        for fv in values:
            if not _SEVERAL_FLAGS.search(fv.value):
                continue
            if fv.via.startswith("${"):
                why = (f"{fv.via} in ExecStart passes the whole variable as ONE argument (systemd keeps its "
                       f"whitespace); write ${fv.via[2:-1]} to have it split")
            else:
                why = "several flags were passed as one argument"
            cfg.problems.append(f"-{fv.name} gets the value {fv.value!r} ({fv.src}): {why}")


def _apply_env(cfg: FlannelConfig, env: dict[str, FlagValue], on_command_line: set[str]) -> None:
    for var_name, var in env.items():
        if not var_name.startswith("FLANNELD_"):
            continue
        flag = ENV_TO_FLAG.get(var_name)
        if flag is None:
            cfg.problems.append(f"{var_name} ({var.src}) matches no flanneld flag: flanneld ignores it")
            continue
        if flag in on_command_line:
            cfg.shadowed.append(var)
            cmd = cfg.flags[flag]
            cfg.problems.append(f"{var_name}={var.value!r} ({var.src}) is ignored: -{flag}={cmd.value!r} is on the "
                                f"command line ({cmd.src}) and the command line wins")
            continue
        kind = KNOWN_FLAGS[flag]
        value = var.value
        if kind == "bool":
            b = go_bool(value)
            if b is None:
                cfg.problems.append(f"{var_name}={value!r} ({var.src}) is not a boolean: flanneld fails to start")
                continue
            value = "true" if b else "false"
        if kind == "int" and go_int(value) is None:
            cfg.problems.append(f"{var_name}={value!r} ({var.src}) is not an integer: flanneld fails to start")
            continue
        fv = FlagValue(name=flag, value=value, via=f"env:{var_name}", src=var.src)
        cfg.flags[flag] = fv
        if kind == "slice":
            cfg.repeated[flag] = [fv]
            if "," in value or " " in value.strip():
                cfg.problems.append(f"{var_name}={value!r} ({var.src}) sets ONE value {value!r}: an environment "
                                    "variable sets a flag once, so a list never matches an interface")


def etcd_prefix(cfg: FlannelConfig) -> str:
    """The etcd prefix flanneld uses under this configuration (the upstream default if unset)."""
    return cfg.get("etcd-prefix") or DEFAULT_ETCD_PREFIX


def _prefix_problems(cfg: FlannelConfig, events: Sequence[FlannelEvent]) -> None:
    if not events or cfg.get("kube-subnet-mgr") == "true":
        return
    prefix = etcd_prefix(cfg)
    top = "/" + prefix.strip("/").split("/", 1)[0]
    where = cfg.flags["etcd-prefix"].src if "etcd-prefix" in cfg.flags else "flanneld's default"
    for ev in events:
        m = _KEY_NOT_FOUND.search(ev.message)
        if not m:
            continue
        path = m.group(1)
        if path.startswith(top):
            hint = ""
            if prefix.rstrip("/") == RPM_ETCD_PREFIX:
                hint = f"; the RPM default prefix is {RPM_ETCD_PREFIX}, upstream docs write {DEFAULT_ETCD_PREFIX}"
            cfg.problems.append(f"etcd has no network config under the prefix in use {prefix} ({where}): the journal "
                                f"says Key not found ({path}) ({ev.src}){hint}")
        else:
            cfg.problems.append(f"etcd prefix mismatch: this configuration uses {prefix} ({where}) but the journal "
                                f"shows flanneld looking up {path} ({ev.src})")
        return


_LOG_FLAGS = {"v", "vmodule", "log_backtrace_at", "logtostderr", "alsologtostderr", "stderrthreshold", "log_dir"}


def config_drift(files: FlannelConfig | None, process: FlannelConfig | None) -> list[str]:
    """Sentences for flags whose value differs between the files (next restart) and the running process.

    Flags the files set through FLANNELD_* variables are skipped: the process environment is not
    captured, so the running value is unknown. Logging flags are ignored.
    """
    if files is None or process is None or not process.argv or any(u.startswith("$") for u in files.unknown):
        return []  # (a whole-word `$VAR` of unknown value may set any flag: nothing to compare)
    out: list[str] = []
    for name in sorted((set(files.flags) | set(process.flags)) - _LOG_FLAGS - set(files.unknown)):
        f, p = files.flags.get(name), process.flags.get(name)
        if f is not None and f.via.startswith("env:"):
            continue
        f_values = [fv.value for fv in files.values(name)]
        p_values = [fv.value for fv in process.values(name)]
        if f_values == p_values:
            continue
        running = f"-{name}={' '.join(p_values)!r} ({p.src})" if p else f"no -{name}"
        on_disk = f"-{name}={' '.join(f_values)!r} ({f.src})" if f else f"no -{name}"
        out.append(f"the running flanneld has {running} but its files give {on_disk}: it was not restarted after "
                   "the change, or something else starts it")
    return out


# `CLI flags config: {...}` field names (Go struct fields of flannel's CmdLineOpts) -> flag names
_JOURNAL_KEYS = {
    "etcdEndpoints": "etcd-endpoints", "etcdPrefix": "etcd-prefix", "etcdKeyfile": "etcd-keyfile",
    "etcdCertfile": "etcd-certfile", "etcdCAFile": "etcd-cafile", "etcdUsername": "etcd-username",
    "etcdPassword": "etcd-password", "version": "version", "kubeSubnetMgr": "kube-subnet-mgr",
    "kubeApiUrl": "kube-api-url", "kubeAnnotationPrefix": "kube-annotation-prefix",
    "kubeConfigFile": "kubeconfig-file", "iface": "iface", "ifaceRegex": "iface-regex", "ipMasq": "ip-masq",
    "ifaceCanReach": "iface-can-reach", "subnetFile": "subnet-file", "publicIP": "public-ip",
    "publicIPv6": "public-ipv6", "subnetLeaseRenewMargin": "subnet-lease-renew-margin", "healthzIP": "healthz-ip",
    "healthzPort": "healthz-port", "iptablesResyncSeconds": "iptables-resync",
    "iptablesForwardRules": "iptables-forward-rules", "netConfPath": "net-config-path",
    "setNodeNetworkUnavailable": "set-node-network-unavailable", "useMultiClusterCidr": "use-multi-cluster-cidr",
    "ipMasqRandomFullyDisable": "ip-masq-fully-random-disable", "blackholeRoute": "ip-blackhole-route",
}


def journal_config(events: Sequence[FlannelEvent]) -> FlannelConfig | None:
    """The running flanneld's flags from its last `CLI flags config: {...}` log line (v0.15+), or None.

    That line is printed after FLANNELD_* variables were applied, so unlike the argv it includes them.
    Empty values and empty lists are left out; `iface:[eth1 eth2]` becomes two `--iface` values. The
    result has origin "process" (it is what the process ran with) and says so in `notes`.
    """
    lines = [e for e in events if e.kind == "cli-flags"]
    if not lines:
        return None
    ev = lines[-1]
    cfg = FlannelConfig(origin="process", src=ev.src)
    cfg.notes.append(f"flags from flanneld's own 'CLI flags config' log line ({ev.src}), FLANNELD_* variables "
                     "included; the argv itself is not known")
    for key, value in ev.fields.items():
        name = _JOURNAL_KEYS.get(key)
        if name is None or key == "time":
            continue
        if value.startswith("[") and value.endswith("]"):
            items = value[1:-1].split()
            if not items:
                continue
            fvs = [FlagValue(name=name, value=v, via="journal", src=ev.src) for v in items]
            cfg.repeated[name] = fvs
            cfg.flags[name] = fvs[0]
        elif value:
            cfg.flags[name] = FlagValue(name=name, value=value, via="journal", src=ev.src)
    return cfg
