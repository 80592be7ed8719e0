"""Effective flanneld configuration from env files + unit (origin "files") and from argv (origin "process")."""

from __future__ import annotations

from netsnap.flannel.effective import etcd_prefix, files_config, files_config_for, process_config
from netsnap.model import BundleInfo, Host, Identity, SourceState, SourceStatus
from netsnap.model.flannel import FlagValue, SystemdUnit
from netsnap.parsers import flannel_cmdline, flannel_env, flannel_journal, systemd_unit

SYSCONFIG = "flannel/etc-sysconfig-flanneld"
DEFAULT = "flannel/etc-default-flanneld"
UNIT = "flannel/systemctl-cat"


def env_file(text: str, file: str = SYSCONFIG) -> list[FlagValue]:
    return flannel_env.parse(text, file).items


def unit(text: str) -> SystemdUnit:
    [u] = systemd_unit.parse(text, UNIT).items
    return u


RPM_UNIT = ("# /usr/lib/systemd/system/flanneld.service\n[Service]\nEnvironmentFile=/etc/sysconfig/flanneld\n"
            "ExecStart=/usr/bin/flanneld-start $FLANNEL_OPTIONS\n")


def test_incident_a_fixed_opts_without_unit() -> None:
    text = ('FLANNEL_OPTS="-etcd-endpoints=https://192.168.0.15:4003\n-iface=eth1 -public-ip=192.168.0.15\n'
            '-etcd-cafile=/var/paas/srv/kubernetes/ca.crt"\n')
    cfg = files_config({"flannel_env_default": env_file(text, DEFAULT)}, None, [])
    assert cfg.origin == "files"
    assert cfg.get("iface") == "eth1" and cfg.get("public-ip") == "192.168.0.15"
    assert cfg.flags["iface"].src.line == 2 and cfg.flags["iface"].src.file == DEFAULT
    assert cfg.flags["etcd-cafile"].src.line == 3
    assert cfg.problems == [] and cfg.ignored == []
    assert any("assumed" in n for n in cfg.notes)


def test_rpm_unit_with_sysconfig() -> None:
    sysconfig = env_file('FLANNEL_ETCD_ENDPOINTS="http://127.0.0.1:2379"\nFLANNEL_ETCD_PREFIX="/atomic.io/network"\n'
                         'FLANNEL_OPTIONS="--iface=eth1 --ip-masq"\n')
    cfg = files_config({"/etc/sysconfig/flanneld": sysconfig}, unit(RPM_UNIT), [])
    assert cfg.argv == ["/usr/bin/flanneld", "-etcd-endpoints=http://127.0.0.1:2379",
                        "-etcd-prefix=/atomic.io/network", "--iface=eth1", "--ip-masq"]
    assert cfg.flags["etcd-prefix"].via == "flanneld-start ${FLANNEL_ETCD_PREFIX}"
    assert cfg.flags["etcd-prefix"].src.line == 2
    assert cfg.get("ip-masq") == "true"
    assert cfg.src is not None and cfg.src.line == 4
    assert cfg.problems == []


def test_braced_options_trap() -> None:
    sysconfig = env_file('FLANNEL_OPTIONS="--iface=eth1 --ip-masq"\n')
    cfg = files_config({SYSCONFIG: sysconfig}, unit(RPM_UNIT.replace("$FLANNEL_OPTIONS", "${FLANNEL_OPTIONS}")), [])
    assert cfg.get("iface") == "eth1 --ip-masq"
    assert "ip-masq" not in cfg.flags
    assert any("ONE argument" in p and "(flannel/etc-sysconfig-flanneld:1)" in p for p in cfg.problems)


def test_stray_word_ignores_the_rest() -> None:
    cfg = files_config({DEFAULT: env_file('FLANNEL_OPTS="--ip-masq true --iface=eth1"\n', DEFAULT)}, None, [])
    assert cfg.ignored == ["true", "--iface=eth1"]
    assert "iface" not in cfg.flags
    assert any("ignores '--iface=eth1'" in p and "'='" in p for p in cfg.problems)


def test_env_vars_apply_only_to_flags_not_on_the_command_line() -> None:
    sysconfig = env_file('FLANNEL_OPTIONS="-iface=eth1"\nFLANNELD_IFACE=eth0\nFLANNELD_PUBLIC_IP=192.168.0.15\n'
                         "FLANNELD_IP_MASQ=maybe\nFLANNELD_NO_SUCH=1\n")
    cfg = files_config({SYSCONFIG: sysconfig}, unit(RPM_UNIT), [])
    assert cfg.get("iface") == "eth1"
    assert cfg.flags["public-ip"].via == "env:FLANNELD_PUBLIC_IP"
    assert [fv.name for fv in cfg.shadowed] == ["FLANNELD_IFACE"]
    assert any("FLANNELD_IFACE='eth0'" in p and "command line wins" in p for p in cfg.problems)
    assert any("FLANNELD_IP_MASQ" in p and "not a boolean" in p for p in cfg.problems)
    assert any("FLANNELD_NO_SUCH" in p for p in cfg.problems)


def test_env_list_value_is_one_interface_name() -> None:
    old = env_file('FLANNEL_ETCD="http://192.168.56.10:4001"\nFLANNEL_ETCD_KEY="/coreos.com/network"\n'
                   "FLANNELD_IFACE='eth1,eth2'\n")
    cfg = files_config({SYSCONFIG: old}, None, [])
    assert cfg.get("etcd-endpoints") == "http://192.168.56.10:4001"
    assert cfg.get("etcd-prefix") == "/coreos.com/network"
    assert [fv.value for fv in cfg.values("iface")] == ["eth1,eth2"]
    assert any("ONE value" in p for p in cfg.problems)


def test_unit_environment_and_options_env_and_unloaded_files() -> None:
    u = unit("[Service]\nEnvironment=FLANNELD_IFACE=eth9\nEnvironmentFile=-/run/flannel/options.env\n"
             "ExecStart=/usr/bin/flanneld\n")
    options = env_file("FLANNELD_IFACE=172.17.8.101\n", "flannel/options.env")
    cfg = files_config({DEFAULT: env_file('FLANNEL_OPTS="--iface=eth1"\n', DEFAULT)}, u, options)
    # EnvironmentFile= overrides Environment=; /etc/default/flanneld is not loaded by this unit
    assert cfg.get("iface") == "172.17.8.101"
    assert cfg.flags["iface"].via == "env:FLANNELD_IFACE"
    assert any("/etc/default/flanneld is not loaded" in n for n in cfg.notes)


def test_missing_environment_file_makes_its_variables_unknown_not_empty() -> None:
    cfg = files_config({}, unit(RPM_UNIT), [])
    assert any("not in the bundle" in n for n in cfg.notes)
    # the wrapper's endpoints and prefix come from the file the bundle lacks: unknown, never "empty"
    assert cfg.argv[:3] == ["/usr/bin/flanneld", "-etcd-endpoints=${FLANNEL_ETCD_ENDPOINTS:-${FLANNEL_ETCD}}",
                            "-etcd-prefix=${FLANNEL_ETCD_PREFIX:-${FLANNEL_ETCD_KEY}}"]
    assert not any("empty" in p for p in cfg.problems)
    assert cfg.unknown == ["$FLANNEL_OPTIONS", "etcd-endpoints", "etcd-prefix"]


def test_braced_variable_of_a_missing_environment_file_is_unknown() -> None:
    text = ("[Service]\nEnvironmentFile=-/etc/flannel/iface.env\n"
            "ExecStart=/usr/bin/flanneld --ip-masq --iface=${FLANNEL_IFACE}\n")
    cfg = files_config({}, unit(text), [])
    assert cfg.get("iface") == "${FLANNEL_IFACE}" and cfg.unknown == ["iface"]
    assert cfg.get("ip-masq") == "true" and "ip-masq" not in cfg.unknown
    # with every file captured, an unset variable really is empty (systemd's rule)
    cfg = files_config({}, unit(text.replace("EnvironmentFile=-/etc/flannel/iface.env\n", "")), [])
    assert cfg.get("iface") == "" and cfg.unknown == []


def test_prefix_mismatch_with_the_journal() -> None:
    sysconfig = env_file('FLANNEL_ETCD_ENDPOINTS="http://127.0.0.1:2379"\nFLANNEL_ETCD_PREFIX="/atomic.io/network"\n')
    journal = flannel_journal.parse("2026-11-26T08:00:03+0000 n flanneld[8]: E1126 08:00:03.100000       8 main.go:1] "
                                    "Couldn't fetch network config: 100: Key not found (/coreos.com) [238]\n",
                                    "flannel/journal").items
    cfg = files_config({SYSCONFIG: sysconfig}, unit(RPM_UNIT), [], events=journal)
    assert etcd_prefix(cfg) == "/atomic.io/network"
    assert any("etcd prefix mismatch" in p and "(flannel/journal:1)" in p for p in cfg.problems)
    same = journal[0].model_copy(update={"message": "failed to retrieve network config: 100: Key not found "
                                                    "(/atomic.io) [7]"})
    cfg2 = files_config({SYSCONFIG: sysconfig}, unit(RPM_UNIT), [], events=[same])
    assert any("no network config under the prefix in use /atomic.io/network" in p and "RPM default" in p
               for p in cfg2.problems)


def test_no_files_at_all() -> None:
    cfg = files_config({}, None, [])
    assert cfg.argv == [] and cfg.flags == {} and cfg.notes


def test_process_config_from_argv() -> None:
    items = flannel_cmdline.parse("# pid 9\n/usr/bin/flanneld\n--ip-masq\n\n--iface=eth2\n# pid 10\nflanneld\n",
                                  "flannel/cmdline").items
    cfg = process_config(items)
    assert cfg.origin == "process"
    assert cfg.argv == ["/usr/bin/flanneld", "--ip-masq", "", "--iface=eth2"]
    assert cfg.ignored == ["", "--iface=eth2"]
    assert any("empty argument" in p for p in cfg.problems)
    assert any("several flanneld processes" in n for n in cfg.notes)
    assert cfg.flags["ip-masq"].src.line == 3 and cfg.flags["ip-masq"].via == "cmdline"


def test_process_config_without_flanneld() -> None:
    k3s = flannel_cmdline.parse("# pid 5\n/usr/local/bin/k3s\nserver\n", "c").items
    assert process_config(k3s).flags == {}
    assert process_config([]).notes == ["no running flanneld process captured"]


def test_files_config_for_host_maps_bundle_paths() -> None:
    host = Host(name="m", bundle=BundleInfo(path="m", kind="dir"), identity=Identity(hostname="m"))
    host.sources["flannel_env_sysconfig"] = SourceStatus(source="flannel_env_sysconfig", state=SourceState.OK,
                                                         file="etc/sysconfig/flanneld")
    host.flannel.env_files["etc/sysconfig/flanneld"] = {fv.name: fv for fv in env_file(
        'FLANNEL_OPTIONS="-iface=eth1"\n', "etc/sysconfig/flanneld")}
    host.flannel.unit = unit(RPM_UNIT)
    cfg = files_config_for(host)
    assert cfg is not None and cfg.get("iface") == "eth1"
    empty = Host(name="e", bundle=BundleInfo(path="e", kind="dir"), identity=Identity(hostname="e"))
    assert files_config_for(empty) is None


def test_config_drift_between_files_and_process() -> None:
    from netsnap.flannel.effective import config_drift

    files = files_config({DEFAULT: env_file('FLANNEL_OPTS="--iface=eth1 --ip-masq -v=2"\nFLANNELD_PUBLIC_IP=1.2.3.4\n',
                                            DEFAULT)}, None, [])
    proc = process_config(flannel_cmdline.parse("# pid 1\nflanneld\n--ip-masq\n-v=5\n", "flannel/cmdline").items)
    drift = config_drift(files, proc)
    assert len(drift) == 1
    assert "no -iface" in drift[0] and "-iface='eth1' (flannel/etc-default-flanneld:1)" in drift[0]
    same = process_config(flannel_cmdline.parse("flanneld\n--iface=eth1\n--ip-masq\n", "c").items)
    assert config_drift(files, same) == []
    assert config_drift(None, proc) == [] and config_drift(files, None) == []


def test_journal_config_from_the_cli_flags_line() -> None:
    from netsnap.flannel.effective import journal_config

    events = flannel_journal.parse(
        "I1126 10:00:01.123456       1 main.go:211] CLI flags config: {etcdEndpoints:http://127.0.0.1:4001 "
        "etcdPrefix:/coreos.com/network etcdKeyfile: etcdPassword:hunter2 kubeSubnetMgr:true iface:[eth1 eth2] "
        "ifaceRegex:[] ipMasq:true publicIP:192.168.0.15 healthzPort:0}\n"
        "I1126 10:00:01.301200       1 main.go:541] Using interface with name eth1 and address 192.168.0.15\n",
        "flannel/pod-logs").items
    cfg = journal_config(events)
    assert cfg is not None and cfg.origin == "process"
    assert [fv.value for fv in cfg.values("iface")] == ["eth1", "eth2"]
    assert cfg.get("public-ip") == "192.168.0.15" and cfg.get("kube-subnet-mgr") == "true"
    assert cfg.get("etcd-password") == "***REDACTED***"
    assert "etcd-keyfile" not in cfg.flags and "iface-regex" not in cfg.flags
    assert cfg.flags["iface"].src.line == 1 and cfg.flags["iface"].via == "journal"
    assert journal_config(events[1:]) is None
