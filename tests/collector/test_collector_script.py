"""The collector script without namespaces: portability, manifest contract, limits, redaction.

These runs read the test machine's own (live) network state, which the collector never changes;
flannel files come from a temporary --sysroot.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netsnap.sources import BY_ID, SOURCES

from .conftest import (
    BUNDLE_NAME,
    SCRIPT,
    SECRET,
    STATUSES,
    make_flannel_sysroot,
    run_collector,
    tree_snapshot,
)

# Sources a Linux host collection covers: all but the list-format iptables of sosreports.
HOST_SOURCES = {s.id for s in SOURCES} - {"iptables_list"}
SHELLS = {"bash": ["bash"], "dash": ["dash"], "busybox": ["busybox", "sh"]}


def restricted_bin(dest: Path, drop: set[str], fakes: dict[str, str] | None = None) -> Path:
    """A PATH directory linking every tool of the normal PATH except `drop`, plus fake scripts."""
    dest.mkdir()
    for d in [*os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"), "/usr/sbin", "/sbin"]:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = dest / name
            if name in drop or target.exists() or target.is_symlink():
                continue
            target.symlink_to(os.path.join(d, name))
    for name, body in (fakes or {}).items():
        target = dest / name
        if target.is_symlink():
            target.unlink()
        target.write_text("#!/bin/sh\n" + body + "\n")
        target.chmod(0o755)
    return dest


def test_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    proc = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_runs_under_posix_shells(shell: str, tmp_path: Path) -> None:
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=make_flannel_sysroot(tmp_path / "root"), shell=argv)
    failed = [e["id"] for e in run.manifest["sources"] if e["status"] in ("failed", "timed-out")]
    if failed:  # the test machine's own failures (no firewalld D-Bus...): named on the one stderr line
        assert run.proc.stderr.count("\n") == 1 and all(sid in run.proc.stderr for sid in failed), run.proc.stderr
    else:
        assert run.proc.stderr == ""
    assert BUNDLE_NAME.match(run.top), run.top
    assert run.tarball.name == run.top + ".tar.gz"
    assert run.tarball.parent == out.resolve()
    assert {e["id"] for e in run.manifest["sources"]} == HOST_SOURCES
    assert run.text("flannel/etc-default-flanneld").count("-iface=eth0") == 1
    assert sorted(p.name for p in out.iterdir()) == [run.tarball.name], "temporary files left behind"


def test_manifest_contract(tmp_path: Path) -> None:
    run = run_collector(tmp_path, sysroot=make_flannel_sysroot(tmp_path / "root"))
    m = run.manifest
    assert m["format"] == "netsnap-bundle/1"
    assert m["collector_version"] == "0.1.0"
    assert m["collected_at"].endswith("Z")
    assert run.top.endswith("-" + m["collected_at"].replace("-", "").replace(":", ""))
    assert m["hostname"] and run.top.startswith("netsnap-")
    assert m["sysroot"] == str((tmp_path / "root").resolve())
    assert m["redactions"] == sum(e["redacted"] for e in m["sources"]) > 0
    keys = {"id", "path", "command", "status", "exit_code", "duration_ms", "size", "sha256", "truncated",
            "timed_out", "redacted", "empty_answer", "reason"}
    assert m["run_as_root"] is (os.geteuid() == 0)
    ids = [e["id"] for e in m["sources"]]
    assert len(ids) == len(set(ids)) and set(ids) == HOST_SOURCES
    for e in m["sources"]:
        assert set(e) == keys, e
        assert e["path"] == BY_ID[e["id"]].path, e
        assert e["status"] in STATUSES, e
        assert isinstance(e["command"], str) and e["command"], e
        assert isinstance(e["duration_ms"], int) and e["duration_ms"] >= 0
        assert isinstance(e["truncated"], bool) and isinstance(e["timed_out"], bool)
        data = run.members.get(e["path"])
        if e["status"] in ("absent", "command-missing"):
            assert data is None and e["sha256"] is None and e["size"] == 0 and e["exit_code"] is None, e
        else:
            assert data is not None, e
            assert e["size"] == len(data)
            assert e["sha256"] == hashlib.sha256(data).hexdigest()
        if e["status"] == "ok":
            assert e["size"] > 0 and e["reason"] is None
        assert e["empty_answer"] is (e["status"] == "empty" and e["exit_code"] == 0), e
    # Facts of the live machine the test runs on: same kernel, same routes as `ip route`.
    assert run.entry("uname")["status"] == "ok"
    assert run.text("identity/uname").split()[2] == os.uname().release
    assert run.entry("proc_net_route")["status"] == "ok"
    assert run.text("routes/proc-net-route").startswith("Iface\tDestination")
    assert run.entry("date")["status"] == "ok"
    assert run.entry("flannel_env_default")["command"] == "/etc/default/flanneld"
    assert run.entry("flannel_env_sysconfig")["status"] == "absent"
    assert run.entry("subnet_env")["status"] == "absent"
    log = run.text("collector.log")
    assert all(f"{sid}\t" in log for sid in HOST_SOURCES)


def test_sysctl_keys_read_from_proc(tmp_path: Path) -> None:
    run = run_collector(tmp_path)
    lines = run.text("kernel/sysctl").splitlines()
    values = dict(line.split(" = ", 1) for line in lines)
    assert len(values) == len(lines)
    assert values["net.ipv4.ip_forward"] == Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    for scope in ("all", "default", "lo"):
        for key in ("rp_filter", "arp_ignore", "arp_announce", "forwarding"):
            expected = Path(f"/proc/sys/net/ipv4/conf/{scope}/{key}").read_text().strip()
            assert values[f"net.ipv4.conf.{scope}.{key}"] == expected
    bridge = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
    assert ("net.bridge.bridge-nf-call-iptables" in values) == bridge.exists()


def test_usage_errors(tmp_path: Path) -> None:
    bad = subprocess.run(["sh", str(SCRIPT), "--bogus"], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "netsnap-collect: unknown argument: --bogus (see --help)"
    missing = tmp_path / "nope"
    proc = subprocess.run(["sh", str(SCRIPT), "--output", str(tmp_path), "--sysroot", str(missing)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"netsnap-collect: --sysroot {missing}: not a directory"
    assert list(tmp_path.iterdir()) == []
    version = subprocess.run(["sh", str(SCRIPT), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "netsnap-collect 0.1.0"


def test_help_says_what_it_reads_redacts_needs_and_what_to_send() -> None:
    proc = subprocess.run(["sh", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    text = " ".join(proc.stdout.split())
    for said in ("What it reads:", "iptables-save", "flanneld's journal", "It changes nothing", "Run it as root",
                 "exits with status 3", "--allow-partial", "Redacted before anything is written", "password",
                 "URL credentials", "Send that file back", "the last line printed"):
        assert said in text, said
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100


def test_failed_sources_are_summarised_on_the_last_line(tmp_path: Path) -> None:
    fakes = {"bridge": "echo 'bridge: RTNETLINK answers: Operation not permitted' >&2; exit 2",
             "ipset": "echo 'ipset v7.17: Kernel error received: Operation not permitted' >&2; exit 1",
             "dmesg": "echo 'dmesg: weird' >&2; exit 5"}
    path = restricted_bin(tmp_path / "bin", drop=set(), fakes=fakes)
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, env={"PATH": str(path)}, sysroot=tmp_path)
    last = run.proc.stderr.strip().splitlines()[-1]
    assert re.match(r"netsnap-collect: \d+ sources failed: ", last), last
    assert "permission denied" in last and "bridge_fdb" in last and "exit 5 (dmesg)" in last
    assert run.entry("bridge_fdb")["reason"] == "bridge: RTNETLINK answers: Operation not permitted"
    if os.geteuid() == 0:
        assert run.proc.returncode == 0 and "run as root" not in last


@pytest.fixture
def fake_flanneld() -> Iterator[subprocess.Popen[bytes]]:
    """A process named flanneld (comm) whose argv carries an etcd password and a token."""
    code = ("import ctypes, time; ctypes.CDLL(None).prctl(15, b'flanneld', 0, 0, 0); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, "--etcd-password", SECRET, "--iface=eth0",
                             f"--kube-api-token={SECRET}x"])
    try:
        for _ in range(100):
            if Path(f"/proc/{proc.pid}/comm").read_text().strip() == "flanneld":
                break
            time.sleep(0.02)
        else:
            pytest.fail("fake flanneld did not rename itself")
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_redaction_of_every_secret_form(tmp_path: Path, fake_flanneld: subprocess.Popen[bytes]) -> None:
    root = make_flannel_sysroot(tmp_path / "root")
    secrets = {f"pw{i}{SECRET}" for i in range(1, 12)}
    (root / "etc/sysconfig").mkdir(parents=True)
    (root / "etc/sysconfig/flanneld").write_text(
        'FLANNEL_ETCD_ENDPOINTS="https://admin:pw1' + SECRET + '@10.0.0.1:2379"\n'
        "FLANNELD_ETCD_PASSWORD=pw2" + SECRET + "\n"
        'FLANNELD_ETCD_PASSWORD_QUOTED="pw3' + SECRET + ' with space"\n'
        "FLANNEL_OPTS='-etcd-password pw4" + SECRET + " -iface=eth1'\n"
        "K3S_TOKEN=pw5" + SECRET + "\n"
        "db_passwd=pw6" + SECRET + "\n"
        "client_secret='pw7" + SECRET + "'\n"
        "FLANNELD_IFACE=eth1\n"
    )
    dropin = root / "usr/lib/systemd/system/flanneld.service.d/10-auth.conf"
    dropin.parent.mkdir(parents=True)
    dropin.write_text('[Service]\nEnvironment="HTTP_AUTH=Authorization: Bearer pw8' + SECRET + '"\n')
    (root / "run/flannel").mkdir(parents=True)
    (root / "run/flannel/options.env").write_text(
        '{"etcdPassword": "pw9' + SECRET + '", "iface": "eth1"}\n'
        "-----BEGIN RSA PRIVATE KEY-----\npw10" + SECRET + "\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
        "key=-----BEGIN PRIVATE KEY-----pw11" + SECRET + "-----END PRIVATE KEY-----\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=root)
    everything = b"".join(run.members.values()) + run.tarball.name.encode()
    assert SECRET.encode() not in everything, [k for k, v in run.members.items() if SECRET.encode() in v]
    for s in secrets:
        assert s.encode() not in everything, s
    env = run.text("flannel/etc-sysconfig-flanneld").splitlines()
    assert env == [
        'FLANNEL_ETCD_ENDPOINTS="https://admin:***REDACTED***@10.0.0.1:2379"',
        "FLANNELD_ETCD_PASSWORD=***REDACTED***",
        'FLANNELD_ETCD_PASSWORD_QUOTED="***REDACTED***"',
        "FLANNEL_OPTS='-etcd-password ***REDACTED*** -iface=eth1'",
        "K3S_TOKEN=***REDACTED***",
        "db_passwd=***REDACTED***",
        "client_secret='***REDACTED***'",
        "FLANNELD_IFACE=eth1",
    ]
    assert run.entry("flannel_env_sysconfig")["redacted"] == 7
    unit = run.text("flannel/systemctl-cat")
    assert unit.startswith("# /etc/systemd/system/flanneld.service\n[Unit]\n")
    assert "\n\n# /usr/lib/systemd/system/flanneld.service.d/10-auth.conf\n[Service]\n" in unit
    assert str(root) not in unit
    assert "ExecStart=/usr/bin/flanneld -etcd-password=***REDACTED*** $FLANNEL_OPTS" in unit
    assert "Bearer ***REDACTED***" in unit
    assert run.entry("flannel_unit")["redacted"] == 2
    opts = run.text("flannel/options.env")
    assert '"etcdPassword": "***REDACTED***", "iface": "eth1"' in opts
    assert "-----BEGIN RSA PRIVATE KEY-----\n***REDACTED***\n-----END RSA PRIVATE KEY-----\n" in opts
    assert "key=-----BEGIN PRIVATE KEY-----***REDACTED***-----END PRIVATE KEY-----" in opts
    pods = run.text("flannel/pod-logs")
    assert pods.startswith("==> /var/log/pods/kube-system_kube-flannel-x/kube-flannel/0.log <==\n")
    assert "etcdUsername:admin etcdPassword:***REDACTED*** version:false" in pods
    assert "etcdKeyfile: etcdCertfile:" in pods
    cmdline = run.text("flannel/cmdline")
    block = cmdline.split(f"# pid {fake_flanneld.pid}\n", 1)[1].split("# pid ", 1)[0].splitlines()
    assert block[-4:] == ["--etcd-password", "***REDACTED***", "--iface=eth0", "--kube-api-token=***REDACTED***"]
    assert run.entry("flannel_cmdline")["status"] == "ok"
    m = run.manifest
    assert m["redactions"] == sum(e["redacted"] for e in m["sources"])
    assert m["redactions"] >= 7 + 2 + 3 + 1 + 2


def test_pod_logs_are_bounded(tmp_path: Path) -> None:
    root = tmp_path / "root"
    log = root / "var/log/pods/kube-flannel_kube-flannel-ds-abc_1/kube-flannel/1.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(2500)))
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=root)
    e = run.entry("flannel_pod_logs")
    assert e["status"] == "truncated" and e["truncated"] is True
    lines = run.text("flannel/pod-logs").splitlines()
    assert lines[0] == "==> /var/log/pods/kube-flannel_kube-flannel-ds-abc_1/kube-flannel/1.log <=="
    assert lines[1:] == [f"line {i}" for i in range(500, 2500)]


def test_time_limit_and_failures_are_recorded(tmp_path: Path) -> None:
    if shutil.which("timeout") is None:
        pytest.skip("timeout is not installed")
    real_ip = shutil.which("ip")
    if real_ip is None:
        pytest.skip("iproute2 (ip) is not installed")
    # `ip route` hangs; the other ip commands and everything else stay real.
    fakes = {"ip": f'case "$1" in route) exec sleep 30 ;; esac\nexec {real_ip} "$@"',
             "bridge": "echo partial; echo oops >&2; exit 3"}
    path = restricted_bin(tmp_path / "bin", drop=set(), fakes=fakes)
    out = tmp_path / "out"
    out.mkdir()
    env = {"PATH": str(path)}
    started = time.monotonic()
    run = run_collector(out, env=env, extra=["--timeout", "1"], sysroot=tmp_path)
    assert time.monotonic() - started < 60
    e = run.entry("ip_route")
    assert e["status"] == "timed-out" and e["timed_out"] is True, e
    assert 900 <= e["duration_ms"] < 10_000
    assert run.entry("ip_rule")["status"] == "ok"
    fdb = run.entry("bridge_fdb")
    assert fdb["status"] == "failed" and fdb["exit_code"] == 3
    assert run.text("neigh/bridge-fdb") == "partial\n"
    assert "bridge_fdb\tfailed\texit=3" in run.text("collector.log")
    assert "oops" in run.text("collector.log")
    assert run.manifest["command_timeout_s"] == 1
    assert run.entry("uname")["status"] == "ok"


def test_missing_timeout_tool_is_recorded(tmp_path: Path) -> None:
    path = restricted_bin(tmp_path / "bin", drop={"timeout", "busybox"})
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "root").mkdir()
    run = run_collector(out, env={"PATH": str(path)}, sysroot=tmp_path / "root")
    assert run.manifest["timeout_available"] is False
    assert run.entry("ip_route")["status"] == "ok"
    assert "no working timeout command" in run.text("collector.log")


def test_nothing_written_outside_output(tmp_path: Path) -> None:
    root = make_flannel_sysroot(tmp_path / "root")
    cwd, tmpdir, out = tmp_path / "cwd", tmp_path / "tmpdir", tmp_path / "out"
    for d in (cwd, tmpdir, out):
        d.mkdir()
    before = tree_snapshot(root)
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "TMPDIR": str(tmpdir),
           "HOME": str(cwd)}
    run = run_collector(out, sysroot=root, env=env, cwd=cwd)
    assert tree_snapshot(root) == before
    assert list(cwd.iterdir()) == [] and list(tmpdir.iterdir()) == []
    assert [p.name for p in out.iterdir()] == [run.tarball.name]
    assert oct(run.tarball.stat().st_mode & 0o777) == "0o600"


def test_busybox_only_host(tmp_path: Path) -> None:
    """A minimal host: busybox ash and busybox applets only (its sed, tail, awk, tar, gzip, ip...)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for applet in applets:
        (bindir / applet).symlink_to(busybox)
    root = make_flannel_sysroot(tmp_path / "root")
    log = root / "var/log/pods/kube-system_kube-flannel-x/kube-flannel/1.log"
    log.write_text("".join(f"line {i}\n" for i in range(2100)))
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=root, shell=[busybox, "sh"], env={"PATH": str(bindir)})
    m = run.manifest
    assert {e["id"] for e in m["sources"]} == HOST_SOURCES
    for e in m["sources"]:
        if e["path"] in run.members:
            assert e["sha256"] == hashlib.sha256(run.members[e["path"]]).hexdigest(), e
    assert run.entry("ethtool")["status"] == "command-missing"
    assert run.entry("proc_net_route")["status"] == "ok"
    assert run.entry("uname")["status"] == "ok"
    # busybox ip has no -d: the plain listing is taken instead, and says so.
    assert run.entry("ip_addr")["status"] == "ok" and run.entry("ip_addr")["command"] == "ip address"
    assert run.entry("ip_link")["command"] == "ip link show"
    assert "ip -d address failed (exit=1), retrying without -d" in run.text("collector.log")
    assert re.search(r"^1: lo: <", run.text("links/ip-d-address"), re.M)
    assert all(SECRET.encode() not in data for data in run.members.values())
    assert m["redactions"] >= 3
    pods = run.text("flannel/pod-logs")
    assert run.entry("flannel_pod_logs")["status"] == "truncated"
    assert pods.endswith("line 2099\n") and "\nline 99\n" not in pods and "\nline 100\n" in pods


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_odd_sysroot_path_gives_valid_json(shell: str, tmp_path: Path) -> None:
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    root = make_flannel_sysroot(tmp_path / 'root dir "q" \\b\tc\u00e9')
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=root, shell=argv)
    assert run.manifest["sysroot"] == str(root.resolve()).replace("\t", " ").replace("\u00e9", "??")
    assert run.entry("flannel_env_default")["status"] == "ok"
    assert run.entry("flannel_pod_logs")["status"] == "ok"


def test_second_run_in_the_same_second_keeps_the_first_bundle(tmp_path: Path) -> None:
    first = run_collector(tmp_path)
    second = run_collector(tmp_path)
    assert first.tarball != second.tarball
    assert first.tarball.is_file() and second.tarball.is_file()


def test_docs_list_every_source() -> None:
    doc = (SCRIPT.parents[1] / "docs" / "bundle-format.md").read_text()
    doc = doc.split("## Bundle layout", 1)[1].split("\n#", 1)[0]
    rows = {line.split("|")[1].strip(" `"): line.split("|")[2].strip(" `")
            for line in doc.splitlines() if line.startswith("| `")}
    for sid in HOST_SOURCES:
        assert rows.get(sid) == BY_ID[sid].path, sid


def test_journal_of_a_sysroot_is_read_from_its_directory(tmp_path: Path) -> None:
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl is not installed")
    root = tmp_path / "root"
    (root / "var/log/journal").mkdir(parents=True)
    out = tmp_path / "out"
    out.mkdir()
    run = run_collector(out, sysroot=root)
    e = run.entry("flannel_journal")
    assert e["command"].endswith(f" -D {root.resolve()}/var/log/journal")
    assert "-o short-iso" in e["command"] and "--since -7d" in e["command"] and "-u flanneld" in e["command"]
    assert e["status"] in ("empty", "ok", "failed"), e
    bare = tmp_path / "bare"
    bare.mkdir()
    assert run_collector(out, sysroot=bare).entry("flannel_journal")["status"] == "absent"


def test_interrupted_run_leaves_nothing_behind(tmp_path: Path) -> None:
    real_ip = shutil.which("ip")
    if real_ip is None:
        pytest.skip("iproute2 (ip) is not installed")
    path = restricted_bin(tmp_path / "bin", drop=set(),
                          fakes={"ip": f'case "$1" in route) exec sleep 30 ;; esac\nexec {real_ip} "$@"'})
    out = tmp_path / "out"
    out.mkdir()
    root = make_flannel_sysroot(tmp_path / "root")
    proc = subprocess.Popen(["sh", str(SCRIPT), "--output", str(out), "--sysroot", str(root), "--timeout", "2"],
                            env={"PATH": str(path)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not list(out.glob(".netsnap-work.*/*/routes")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(out.glob(".netsnap-work.*")), "the run never started"
        proc.terminate()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert list(out.iterdir()) == []
