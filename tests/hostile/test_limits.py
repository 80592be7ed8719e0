"""The limits themselves: `--limit NAME=VALUE` parsing, raising and lowering a limit changes what
is read, the reader's refusals by type, JSON depth and size, the memory ceiling of the program, and
docs/limits.md listing every limit with its default."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsnap.bundle.jsondoc import loads, nesting_depth
from netsnap.bundle.limits import SPECS, InputRefused, Limits, parse_value, show, value_of, with_overrides
from netsnap.bundle.reader import open_bundle
from netsnap.bundle.regular import read_bounded
from netsnap.cli.app import app
from tests.bundle.tarbuild import add_file
from tests.hostile.corpus import NODE1, collector_with, iptables_chains

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
ROUTE_N = "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"


@pytest.mark.parametrize(("name", "text", "value"), [
    ("file-size", "64M", 64 * 1024**2), ("file-size", "1.5GiB", int(1.5 * 1024**3)), ("file-size", "512k", 512 * 1024),
    ("file-size", "100", 100), ("members", "50k", 50_000), ("members", "1m", 1_000_000), ("ratio", "500", 500),
])
def test_limit_values(name: str, text: str, value: int) -> None:
    assert parse_value(name, text) == value


@pytest.mark.parametrize(("spec", "message"), [
    ("file-size=lots", "--limit file-size=lots: not a size (e.g. 64M, 1G or 512K)"),
    ("members=1G", "--limit members=1G: not a number (e.g. 20000 or 50k)"),
    ("members=0", "--limit members=0: must be more than 0"),
    ("colour=red", "unknown limit 'colour' (known: " + ", ".join(SPECS) + ")"),
    ("file-size", "--limit file-size: expected NAME=VALUE (names: " + ", ".join(SPECS) + ")"),
])
def test_bad_limit_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        with_overrides(Limits(), [spec])
    assert str(err.value) == message


def test_a_bad_limit_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["--limit", "members=many", "inventory", str(NODE1)])
    assert result.exit_code == 2
    assert result.stderr == "netsnap: error: --limit members=many: not a number (e.g. 20000 or 50k)\n"


def test_a_limit_given_on_the_command_line_decides_what_is_read(tmp_path: Path) -> None:
    bundle = collector_with(tmp_path / "node1", {"kernel/dmesg": "[    1.000000] x\n" * 200})
    low = runner.invoke(app, ["--limit", "file-size=1K", "inventory", str(bundle), "--format", "json"])
    assert low.exit_code == 0, low.output
    assert ("skipped kernel/dmesg: 3.3 KiB, over the file-size limit of 1 KiB (raise it with netsnap --limit "
            "file-size=SIZE)") in low.stdout
    default = runner.invoke(app, ["inventory", str(bundle), "--format", "json"])  # the next command starts afresh
    assert "skipped kernel/dmesg" not in default.stdout


def test_raising_the_json_depth_reads_a_deep_export(tmp_path: Path) -> None:
    sg = tmp_path / "sg.json"
    sg.write_text('{"format": "netsnap-sg/1", "group": "g", "x": ' + "[" * 100 + "]" * 100 + ', "rules": []}')
    args = ["trace", str(NODE1), "--from", "node1", "--to", "172.18.0.1", "--security-group", f"node1={sg}"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert refused.stderr == (f"netsnap: error: {sg}: nested 101 levels deep, over the json-depth limit of 64 "
                              "(raise it with netsnap --limit json-depth=N)\n")
    raised = runner.invoke(app, ["--limit", "json-depth=200", *args])
    assert raised.exit_code in (0, 1), raised.output


def test_every_limit_is_documented_with_its_default() -> None:
    doc = (REPO / "docs" / "limits.md").read_text(encoding="utf-8")
    for name in SPECS:
        assert f"| `{name}` | {show(name, value_of(Limits(), name))} |" in doc, name
    assert "docs/limits.md" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("path", "message"), [
    ("/dev/zero", "/dev/zero: not a regular file (device file)"),
    ("/proc/self/status",
     "/proc/self/status: a file of the proc pseudo file system (kernel state, not a file to read)"),
    ("/", "/: not a regular file (directory)"),
])
def test_the_reader_refuses_by_type(path: str, message: str) -> None:
    with pytest.raises(InputRefused) as err:
        read_bounded(path, Limits())
    assert str(err.value) == message


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    with pytest.raises(InputRefused, match=r"export\.json: not a regular file \(fifo\)$"):
        read_bounded(str(fifo), Limits())


def test_a_file_over_the_limit_is_refused_from_its_size_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(5 * 1024**3)  # sparse: 5 GiB claimed, nothing on disk
    with pytest.raises(InputRefused) as err:
        read_bounded(str(big), Limits(), "document-size")
    assert str(err.value) == (f"{big}: 5 GiB, over the document-size limit of 20 MiB (raise it with netsnap "
                              "--limit document-size=SIZE)")


@pytest.mark.parametrize(("text", "depth"), [
    ("{}", 1), ('{"a": [1, {"b": "[[[["}]}', 3), ('"]]]{{{"', 0), ('["\\"[["]', 1), ("[" * 500 + "]" * 500, 500),
])
def test_nesting_depth_skips_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_deep_json_is_refused_before_decoding() -> None:
    with pytest.raises(InputRefused) as err:
        loads("[" * 100_000 + "]" * 100_000, "doc.json", Limits())
    assert str(err.value) == ("doc.json: nested 100,000 levels deep, over the json-depth limit of 64 (raise it "
                              "with netsnap --limit json-depth=N)")


def test_json_by_byte_order_mark_and_escaped_controls_made_inert() -> None:
    assert loads('{"a": "x\\u001b[2Jy\\r"}'.encode("utf-16"), "d", Limits()) == {"a": "x\ufffd[2Jy\ufffd"}


def test_a_chain_of_extended_tar_headers_stops(tmp_path: Path) -> None:
    """Extended headers in a row make tarfile recurse once each; a chain longer than 8 stops the read."""
    from tests.hostile.corpus import raw_header, tar_bytes

    good = tar_bytes({"route.txt": ROUTE_N.encode()}, end=False)
    chain = b"".join(raw_header(b"././@LongLink", 512, b"L") + b"x".ljust(512, b"\0") for _ in range(2000))
    path = tmp_path / "chain.tar"
    path.write_bytes(good + chain + bytes(1024))
    bundle = open_bundle(path)
    assert "stopped reading at ././@LongLink: more than 8 extended headers in a row" in bundle.problems
    assert "route.txt" in bundle.members


def test_a_zip_holding_tarballs_gives_one_host_each(tmp_path: Path) -> None:
    from tests.hostile.corpus import MASTER, _zip_of_tarballs

    path = _zip_of_tarballs(tmp_path / "ticket.zip")
    result = runner.invoke(app, ["inventory", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    hosts = [(b["host"], b["path"]) for b in json.loads(result.stdout)["bundles"]]
    assert hosts == [("master", f"{path}/ticket-123/{MASTER.name}.tar.gz"),
                     ("node1", f"{path}/ticket-123/node1.tar.gz")]


def test_open_bundle_names_the_bundles_of_an_input_that_holds_several() -> None:
    from netsnap.bundle.model import BundleError

    with pytest.raises(BundleError) as err:
        open_bundle(REPO / "fixtures" / "incident-a")
    assert str(err.value) == (f"{REPO}/fixtures/incident-a: holds 2 bundles ({REPO}/fixtures/incident-a/master, "
                              f"{REPO}/fixtures/incident-a/node1); open them one by one")


def test_loose_host_folders_are_hosts_but_topic_folders_are_one_host(tmp_path: Path) -> None:
    route = (NODE1 / "routes" / "ip-route").read_text()
    rules = (NODE1 / "firewall" / "iptables-save").read_text()
    hosts = tmp_path / "hosts"
    for host in ("web1", "web2"):
        (hosts / host).mkdir(parents=True)
        (hosts / host / "route.txt").write_text(route)
    topics = tmp_path / "topics"
    (topics / "routing").mkdir(parents=True)
    (topics / "firewall").mkdir()
    (topics / "routing" / "route.txt").write_text(route)
    (topics / "firewall" / "rules.txt").write_text(rules)
    from netsnap.bundle.reader import open_bundles

    assert [b.host for b in open_bundles(hosts)] == ["web1", "web2"]
    [one] = open_bundles(topics)
    assert {"ip_route", "iptables_save"} <= set(one.files)


def test_the_program_caps_its_memory_and_says_so(tmp_path: Path) -> None:
    """Run as the `netsnap` program with a low memory limit, a source that needs more is not parsed
    (said in its notes) and the process stays under the limit."""
    bundle = collector_with(tmp_path / "node1", {"firewall/iptables-save": iptables_chains(200_000)})
    # VmHWM is this process's own peak: ru_maxrss would carry the parent's peak across vfork+exec
    code = ("import sys\nfrom netsnap.cli.app import main\nsys.argv = ['netsnap'] + sys.argv[1:]\n"
            "try:\n    main()\nfinally:\n"
            "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0]\n"
            "    print(hwm.split()[1], file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, "--limit", "memory=250M", "parse", str(bundle), "--format",
                           "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "not parsed: ran out of memory (raise it with netsnap --limit memory=SIZE)" in proc.stdout
    assert int(proc.stderr.strip().splitlines()[-1]) < 250 * 1024


def test_a_member_count_flood_of_zip_entries_is_refused_from_the_end_record(tmp_path: Path) -> None:
    from tests.hostile.corpus import zip_central_flood

    path = zip_central_flood(tmp_path / "flood.zip", 30_000)
    result = runner.invoke(app, ["inventory", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (f"netsnap: error: {path}: 30,000 entries, over the members limit of 20,000 (raise it "
                             "with netsnap --limit members=N)\n")


def test_a_directory_tree_deeper_than_the_recursion_limit_is_walked(tmp_path: Path) -> None:
    from tests.hostile.corpus import make_deep

    root = make_deep(tmp_path / "deep", 3000, "x", b"x\n")
    (root / "route.txt").write_text((NODE1 / "routes" / "ip-route").read_text())
    bundle = open_bundle(root, Limits(path_depth=5000, path_length=10_000))
    assert "route.txt" in bundle.members
    assert any(m.endswith("/x") for m in bundle.members)  # walked all the way down, iteratively
    subprocess.run(["rm", "-rf", str(root)], check=True)


def test_member_names_in_tar_headers_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "long.tgz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        add_file(tar, "route.txt", ROUTE_N)
        add_file(tar, "a/" * 40 + "x", "deep\n")
        add_file(tar, "n" * 5000, "long\n")
    bundle = open_bundle(path)
    assert "a/" * 40 + "x" in bundle.members  # 41 levels: under the path-depth limit
    assert ("skipped " + "n" * 5000 + ": path of 5,000 bytes, over the path-length limit of 4 KiB (raise it with "
            "netsnap --limit path-length=SIZE)") in bundle.problems


@pytest.mark.parametrize("command", [["diff", str(NODE1), str(NODE1), "--no-rules"], ["analyze", str(NODE1)]])
def test_an_unwritable_output_is_one_line(tmp_path: Path, command: list[str]) -> None:
    target = tmp_path / "missing" / "out.json"
    result = runner.invoke(app, [*command, "-o", str(target)])
    assert result.exit_code == 2
    prefix = "netsnap: error: "  # one prefix for every command
    assert result.stderr == f"{prefix}{target}: cannot write: No such file or directory\n"
