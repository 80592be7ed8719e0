"""flanneld journal and pod logs: line shapes, timestamps, version hints, the message catalog, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsnap.model.flannel import FlannelEvent
from netsnap.parsers.flannel_journal import parse

NEW = "I1126 10:00:01.455044    1829 main.go:488] "
OLD = "I1126 10:00:01.013876 01523 main.go:188] "


def one(line: str) -> FlannelEvent:
    result = parse(line + "\n", "flannel/journal")
    assert result.unparsed == [], result.unparsed
    [event] = result.items
    return event


def test_journal_prefixes_and_timestamps() -> None:
    short = one(f"Nov 26 10:00:01 master flanneld[123]: {OLD}Installing signal handlers")
    assert (short.timestamp, short.fields["time"], short.identifier, short.pid) == (
        None, "Nov 26 10:00:01", "flanneld", 1523)
    precise = one(f"Nov 26 10:00:01.123456 master flanneld[123]: {NEW}Installing signal handlers")
    assert precise.fields["time"] == "Nov 26 10:00:01.123456"
    iso = one(f"2026-11-26T10:00:01+0100 master flanneld-start[1829]: {NEW}Installing signal handlers")
    assert iso.timestamp == datetime(2026, 11, 26, 10, 0, 1, tzinfo=timezone(timedelta(hours=1)))
    assert "time" not in iso.fields
    iso2 = one(f"2026-11-26T10:00:01+00:00 master flanneld[1]: {NEW}Installing signal handlers")
    assert iso2.timestamp == datetime(2026, 11, 26, 10, 0, 1, tzinfo=UTC)
    cri = one(f"2026-11-26T10:00:01.123456789Z stderr F {NEW}Installing signal handlers")
    assert cri.timestamp == datetime(2026, 11, 26, 10, 0, 1, 123456, tzinfo=UTC)
    assert cri.identifier == "kube-flannel"
    bare = one(f"{NEW}Installing signal handlers")
    assert (bare.timestamp, bare.fields["time"], bare.identifier) == (None, "11-26 10:00:01.455044", None)


def test_klog_header_fields_and_pid_width_hint() -> None:
    new = one(f"{NEW}Setting up something unknown")
    assert (new.level, new.pid, new.source_file, new.version_hint) == ("I", 1829, "main.go:488", ">=v0.7.0")
    old = one(f"{OLD}Setting up something unknown")
    assert (old.pid, old.version_hint) == (1523, "<=v0.6.2")
    pid1 = one("W1126 10:00:01.455044       1 foo.go:1] x")
    assert (pid1.level, pid1.pid, pid1.version_hint) == ("W", 1, ">=v0.7.0")


def test_markers_headers_and_other_daemons_are_understood_not_events() -> None:
    text = "\n".join([
        "-- Logs begin at Thu 2026-11-26 09:00:00 UTC, end at Thu 2026-11-26 12:00:00 UTC. --",
        "-- Boot 5c0ad7e1b5d84e7c8a5d1f4c2f0f9b1e --",
        "-- No entries --",
        "==> /var/log/pods/kube-flannel_x/kube-flannel/0.log <==",
        "Nov 26 10:00:00 master systemd[1]: Started Session 3 of user root.",
        "Nov 26 10:00:00 master kernel: IPVS: Creating netns size=2048 id=9",
        "Nov 26 10:00:00 master k3s[77]: I1126 10:00:00.000000      77 event.go:389] \"Event occurred\"",
    ])
    result = parse(text, "j")
    assert result.items == [] and result.unparsed == []


SYSTEMD_LINES = [  # systemd 252 (job.c, service.c) and 219 (EL7) about flanneld's unit
    ("Started flanneld.service - Flannel.", "unit.started", "I"),
    ("Failed to start flanneld.service - Flannel.", "unit.failed-start", "E"),
    ("Failed to start Flanneld overlay address etcd agent.", "unit.failed-start", "E"),
    ("flanneld.service: Main process exited, code=killed, status=9/KILL", "unit.main-exited", "W"),
    ("flanneld.service: main process exited, code=exited, status=1/FAILURE", "unit.main-exited-old", "W"),
    ("flanneld.service: Main process exited, code=exited, status=0/SUCCESS", "unit.main-exited", "I"),
    ("flanneld.service: start operation timed out. Terminating.", "unit.timeout-op", "E"),
    ("flanneld.service start operation timed out. Terminating.", "unit.timeout-op", "E"),
    ("flanneld.service: Failed with result 'timeout'.", "unit.failed-result", "W"),
    ("flanneld.service: Scheduled restart job, restart counter is at 4.", "unit.restart-scheduled", "I"),
    ("flanneld.service holdoff time over, scheduling restart.", "unit.holdoff-older", "I"),
    ("start request repeated too quickly for flanneld.service", "unit.start-limit-old", "E"),
]


@pytest.mark.parametrize(("message", "mid", "level"), SYSTEMD_LINES, ids=[m for _, m, _ in SYSTEMD_LINES])
def test_systemd_lines_about_the_unit_are_kept(message: str, mid: str, level: str) -> None:
    [ev] = parse(f"Dec 07 10:00:00 n1 systemd[1]: {message}\n", "j").items
    assert (ev.kind, ev.message_id, ev.level, ev.identifier) == ("unit", mid, level, "systemd")


def test_k3s_flannel_lines_are_events() -> None:
    ev = one('May 09 21:06:00 n k3s[2559]: time="2026-05-09T21:06:00+02:00" level=info msg="The interface enp1s0 '
             'with ipv4 address 192.168.1.52 will be used by flannel"')
    assert (ev.kind, ev.fields["iface"], ev.fields["address"], ev.level, ev.identifier) == (
        "iface-chosen", "enp1s0", "192.168.1.52", "I", "k3s")
    assert ev.timestamp == datetime(2026, 5, 9, 21, 6, tzinfo=timezone(timedelta(hours=2)))


CATALOG = [
    ("Determining IP address of default interface", "iface-auto", {}),
    ("Using 172.16.0.4 as external interface", "iface-chosen", {"address": "172.16.0.4"}),
    ("Using 172.16.0.4 as external endpoint", "external-address", {"address": "172.16.0.4"}),
    ("Using interface with name eth1 and address 192.168.0.15", "iface-chosen",
     {"iface": "eth1", "address": "192.168.0.15"}),
    ("Using interface with name eth1 and v6 address fd00::5", "iface-chosen", {"iface": "eth1", "address6": "fd00::5"}),
    ("Using 203.0.113.7 as external address", "external-address", {"address": "203.0.113.7"}),
    ("Defaulting external address to interface address (10.0.2.15)", "external-address",
     {"address": "10.0.2.15", "defaulted": "true"}),
    ("Overriding public ip with '198.51.100.1' from node annotation 'flannel.alpha.coreos.com/public-ip-overwrite'",
     "external-address", {"address": "198.51.100.1", "annotation": "flannel.alpha.coreos.com/public-ip-overwrite"}),
    ("Searching for interface using 192.168.0.15", "iface-search", {"candidate": "192.168.0.15"}),
    ("Determining interface to use based on given ifcanreach: 192.168.0.16", "iface-search",
     {"can_reach": "192.168.0.16"}),
    ("Could not find valid interface matching eth9: failed to find interface by name", "iface-candidate-failed",
     {"candidate": "eth9", "error": "failed to find interface by name"}),
    ("Found network config - Backend type: vxlan", "backend", {"backend_type": "vxlan"}),
    ("VXLAN config: VNI=1 Port=0 GBP=false Learning=false DirectRouting=true", "vxlan-config",
     {"vni": "1", "port": "0", "gbp": "false", "learning": "false", "direct_routing": "true"}),
    ("VXLAN config: VNI=4096 Port=4789 GBP=false DirectRouting=false", "vxlan-config",
     {"vni": "4096", "port": "4789", "gbp": "false", "direct_routing": "false"}),
    ("Subnet lease acquired: 172.18.100.0/24", "lease", {"subnet": "172.18.100.0/24"}),
    ("Lease acquired: 172.30.77.0/24", "lease", {"subnet": "172.30.77.0/24"}),
    ("Found lease (10.1.23.0/24) for current IP (10.0.2.15), reusing", "lease",
     {"subnet": "10.1.23.0/24", "address": "10.0.2.15"}),
    ("Allocated lease (10.244.3.0/24) to current node (192.168.0.17)", "lease",
     {"subnet": "10.244.3.0/24", "address": "192.168.0.17"}),
    ("Picking subnet in range 10.3.0.128 ... 10.3.0.128", "lease",
     {"range_start": "10.3.0.128", "range_end": "10.3.0.128"}),
    ("Wrote subnet file to /run/flannel/subnet.env", "subnet-file", {"path": "/run/flannel/subnet.env"}),
    ("Subnet added: 10.244.2.0/24 via 192.168.0.16", "subnet-added",
     {"subnet": "10.244.2.0/24", "via": "192.168.0.16"}),
    ("Subnet added: 10.244.2.0/24", "subnet-added", {"subnet": "10.244.2.0/24"}),
    ("Subnet removed: 10.244.2.0/24", "subnet-removed", {"subnet": "10.244.2.0/24"}),
    ("adding subnet: 10.244.2.0/24 PublicIP: 192.168.0.16 VtepMAC: 2e:6b:5a:11:90:3c", "peer-event",
     {"subnet": "10.244.2.0/24", "public_ip": "192.168.0.16", "vtep_mac": "2e:6b:5a:11:90:3c"}),
    ('Received Subnet Event with VxLan: BackendType: vxlan, PublicIP: 192.168.0.16, PublicIPv6: (nil), '
     'BackendData: {"VNI":1,"VtepMAC":"2e:6b:5a:11:90:3c"}, BackendV6Data: (nil)', "peer-event",
     {"public_ip": "192.168.0.16", "vtep_mac": "2e:6b:5a:11:90:3c", "vni": "1", "backend_type": "vxlan"}),
    ('"flannel.1" already exists with incompatable configuration: port: 8472 vs 4789; recreating device',
     "incompatible-device", {"device": "flannel.1", "detail": "port: 8472 vs 4789; recreating device"}),
    ("Setting up masking rules", "iptables", {}),
    ("Installing signal handlers", "start", {}),
]


@pytest.mark.parametrize(("message", "kind", "fields"), CATALOG, ids=[c[0][:40] for c in CATALOG])
def test_catalog_message(message: str, kind: str, fields: dict[str, str]) -> None:
    ev = one(NEW + message)
    assert ev.kind == kind
    assert {k: v for k, v in ev.fields.items() if k != "time"} == fields
    assert ev.message == message


ERRORS = [
    ("Couldn't fetch network config: client: etcd cluster is unavailable or misconfigured; error #0: dial tcp "
     "127.0.0.1:2379: getsockopt: connection refused", "etcd-unavailable"),
    ("Couldn't fetch network config: client: etcd cluster is unavailable or misconfigured; error #0: x509: "
     "certificate signed by unknown authority", "tls"),
    ("Couldn't fetch network config: 100: Key not found (/coreos.com) [238]", "net-config"),
    ("Error registering network: failed to acquire lease: node \"n1\" pod cidr not assigned", "pod-cidr"),
    ("Error registering network: failed to configure interface flannel.1: failed to ensure address of interface "
     "flannel.1: link has incompatible addresses. Remove additional addresses and try again.",
     "incompatible-addresses"),
    ("Failed to check br_netfilter: stat /proc/sys/net/bridge/bridge-nf-call-iptables: no such file or directory",
     "br-netfilter"),
    ("Failed to find any valid interface to use: failed to get default interface: found default route but could "
     "not determine interface", "no-interface"),
    ("Error registering network: failed to acquire lease: out of subnets", "lease"),
    ("Failed to ensure iptables rules: iptables v1.8.3 (legacy): can't initialize iptables table `nat'", "iptables"),
    ("Error registering network: operation not permitted", "permission"),
]


@pytest.mark.parametrize(("message", "cls"), ERRORS, ids=[e[1] for e in ERRORS])
def test_error_chains(message: str, cls: str) -> None:
    ev = one("E1126 10:00:01.455044    1829 main.go:330] " + message)
    assert ev.kind == "error" and ev.level == "E"
    assert ev.fields["error_class"] == cls
    assert ev.fields["chain"] == message
    assert message.endswith(ev.fields["root"])


def test_message_version_hint_beats_pid_width() -> None:
    assert one(NEW + "Using 10.0.2.15 as external interface").version_hint == "<=v0.6.2"
    assert one(OLD + "Received Subnet Event with VxLan: PublicIP: 1.2.3.4").version_hint == ">=v0.25.1"
    assert one(NEW + "VXLAN config: VNI=1 Port=0 GBP=false DirectRouting=false").version_hint == "v0.9.0-v0.11.0"


def test_password_is_redacted_everywhere() -> None:
    line = (f"{NEW}CLI flags config: {{etcdEndpoints:https://e:2379 etcdUsername:u etcdPassword:hunter2 "
            "iface:[eth1 eth2] ipMasq:true}")
    ev = one(line)
    assert ev.kind == "cli-flags"
    assert ev.fields["etcdPassword"] == "***REDACTED***"
    assert ev.fields["iface"] == "[eth1 eth2]"
    assert "hunter2" not in ev.raw and "hunter2" not in ev.message
    assert "hunter2" not in one(f"{NEW}running with -etcd-password=hunter2 set").raw


def test_cri_lines_are_flannel_events_but_bare_free_text_is_unparsed() -> None:
    ev = one("2026-11-26T09:59:58.000000000Z stdout F installed /opt/cni/bin/flannel")
    assert (ev.kind, ev.level, ev.identifier, ev.message) == ("other", "?", "kube-flannel",
                                                              "installed /opt/cni/bin/flannel")
    result = parse("installed /opt/cni/bin/flannel\n", "j")
    assert result.items == [] and [u.line for u in result.unparsed] == [1]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_never_raises(text: str) -> None:
    result = parse(text, "j")
    assert all(e.src.line >= 1 for e in result.items)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([c[0] for c in CATALOG]), st.integers(min_value=1, max_value=9_999_999))
def test_catalog_survives_any_pid_and_prefix(message: str, pid: int) -> None:
    line = f"2026-11-26T10:00:01+0000 h flanneld[{pid}]: I1126 10:00:01.000001 {pid:7d} main.go:1] {message}"
    [ev] = parse(line, "j").items
    assert ev.pid == pid and ev.message == message and ev.kind != "other"


def _journal_line(i: int) -> str:
    return f"2026-11-26T10:00:01+0000 node1 flanneld[1234]: I1126 10:00:01.000001    1234 main.go:531] step {i}"


def test_chunked_template_runs_keep_line_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """TTP runs over CHUNK_LINES at a time; provenance, unparsed lines and CR/CRLF endings must not
    notice the chunk boundaries."""
    import netsnap.parsers.flannel_journal as fj

    monkeypatch.setattr(fj, "CHUNK_LINES", 4)
    lines = [_journal_line(i) for i in range(1, 12)]
    lines[4] = "free text nobody understands"  # line 5: first line of the second chunk
    lines[7] = ""  # line 8: blank, neither event nor unparsed
    text = "\r\n".join(lines[:6]) + "\r" + "\n".join(lines[6:]) + "\n"
    result = fj.parse(text, "flannel/journal")
    assert [u.line for u in result.unparsed] == [5]
    assert result.unparsed[0].text == "free text nobody understands"
    assert [e.src.line for e in result.items] == [1, 2, 3, 4, 6, 7, 9, 10, 11]
    assert [e.message for e in result.items] == [f"step {i}" for i in (1, 2, 3, 4, 6, 7, 9, 10, 11)]
    assert all(e.raw == lines[e.src.line - 1] for e in result.items)
    monkeypatch.setattr(fj, "CHUNK_LINES", 10_000)
    assert fj.parse(text, "flannel/journal") == result


def test_events_built_without_validation_equal_validated_ones() -> None:
    text = "\n".join([
        f"Nov 26 10:00:01 master flanneld[123]: {OLD}Using 172.16.0.4 as external interface",
        f"2026-11-26T10:00:01+0100 m flanneld[9]: {NEW}Using interface with name eth0 and address 10.0.0.5",
        f"2026-11-26T10:00:02+0100 m flanneld[9]: {NEW}Using interface with name eth0 and address 10.0.0.5",
        'time="2026-05-09T21:06:00+02:00" level=error msg="failed to \\"x\\": network is unreachable"',
    ])
    result = parse(text, "flannel/journal")
    assert len(result.items) == 4
    for event in result.items:
        assert FlannelEvent.model_validate(event.model_dump()) == event
        assert event.model_fields_set == set(FlannelEvent.model_fields)
    a, b = result.items[1], result.items[2]
    assert a.fields == b.fields == {"iface": "eth0", "address": "10.0.0.5"}
    assert a.fields is b.fields and a.message is b.message  # equal values are shared (the model is read-only)
    assert result.items[0].fields is not a.fields
    a.message = "changed"  # assigning a field replaces it on that event only
    assert b.message.startswith("Using interface")
