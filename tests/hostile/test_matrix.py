"""Every command on every hostile input (tests/hostile/corpus.py), each in a child process with an
address-space limit and a hang guard: exit 0, 1 or 2, never a traceback, one line on stderr for a
refusal, no control character in the output, nothing written outside the output directory, the
corpus untouched, and the peak memory under the stated bound (docs/limits.md). Then, per case, the
exact refusal or the exact effect.

The hang guard (runner.TIME_LIMIT) is not a timing assertion: the slowest run takes a few seconds,
the guard stops a run that would never end.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile.conftest import Matrix
from tests.hostile.runner import judge, tree_state

LABELS = ["inventory", "parse", "parse-json", "analyze-text", "analyze-json", "analyze-html", "trace", "diff",
          "rules-list"]
NORMAL_TICKET_KB = 256 * 1024  # a real two-host ticket (incident A) stays far below the 1 GiB bound
HINT = "(raise it with netsnap --limit {})"
LOOKED_FOR = ("looked for a netsnap collector bundle (manifest.json), a sosreport (sos_commands/) or command "
              "output netsnap recognises (ip route, ip addr, iptables-save, flannel's log...)")


def _problems(m: Matrix, label: str) -> dict[str, list[str]]:
    runs = m.of(label)
    assert runs, f"no {label} runs"
    return {r.job.id: bad for r in runs if (bad := judge(r))}


@pytest.mark.parametrize("label", LABELS)
def test_every_command_on_every_hostile_input(fast_matrix: Matrix, label: str) -> None:
    assert _problems(fast_matrix, label) == {}


def test_the_corpus_is_never_written_to(fast_matrix: Matrix) -> None:
    after = tree_state(fast_matrix.root)
    assert sorted(p for p, st in after.items() if fast_matrix.before.get(p) != st) == []
    assert sorted(set(fast_matrix.before) - set(after)) == []


def test_a_normal_ticket_stays_far_below_the_bound(fast_matrix: Matrix) -> None:
    run = fast_matrix.run("incident-a-folder", "analyze-html")
    assert run.rc in (0, 1) and run.maxrss_kb < NORMAL_TICKET_KB


@pytest.mark.slow
@pytest.mark.parametrize("label", LABELS)
def test_every_command_on_every_big_input(slow_matrix: Matrix, label: str) -> None:
    if label == "rules-list":
        pytest.skip("no big rule directories")
    assert _problems(slow_matrix, label) == {}


@pytest.mark.slow
def test_the_big_corpus_is_never_written_to(slow_matrix: Matrix) -> None:
    after = tree_state(slow_matrix.root)
    assert sorted(p for p, st in after.items() if slow_matrix.before.get(p) != st) == []


# (case, command, the one line on stderr); {R} is the corpus directory
REFUSALS = [
    ("sg-dev-zero", "analyze-text", "netsnap: error: /dev/zero: not a regular file (device file)"),
    ("sg-dev-urandom", "trace", "netsnap: error: /dev/urandom: not a regular file (device file)"),
    ("sg-fifo", "analyze-json", "netsnap: error: {R}/sg-fifo.json: not a regular file (fifo)"),
    ("sg-socket", "trace", "netsnap: error: {R}/sg.sock: not a regular file (socket)"),
    ("sg-proc-status", "analyze-text",
     "netsnap: error: /proc/self/status: a file of the proc pseudo file system (kernel state, not a file to read)"),
    ("sg-directory", "analyze-text", "netsnap: error: {R}: not a regular file (directory)"),
    ("sg-symlink-loop", "analyze-text",
     "netsnap: error: {R}/sg-loop.json: cannot read (Too many levels of symbolic links)"),
    ("sg-sparse-2g", "analyze-html", "netsnap: error: {R}/sg-sparse.json: 2 GiB, over the document-size limit of "
     "20 MiB " + HINT.format("document-size=SIZE")),
    ("sg-deep-list", "trace", "netsnap: error: {R}/sg-deep-list.json: nested 200,000 levels deep, over the "
     "json-depth limit of 64 " + HINT.format("json-depth=N")),
    ("sg-deep-dict", "analyze-text", "netsnap: error: {R}/sg-deep-dict.json: nested 100,000 levels deep, over the "
     "json-depth limit of 64 " + HINT.format("json-depth=N")),
    ("sg-not-json", "analyze-text", "netsnap: error: {R}/sg-garbage.json: not valid JSON (Expecting property name "
     "enclosed in double quotes: line 1 column 2 (char 1))"),
    ("sg-esc-raw", "trace", "netsnap: error: {R}/sg-esc-raw.json: invalid JSON at line 1: Invalid control character "
     "at"),
    ("sg-unreadable", "analyze-text", "netsnap: error: {R}/sg-unreadable.json: cannot read (Permission denied)"),
    ("gz-truncated-header", "parse", "netsnap: error: {R}/hdr.tgz: corrupt or truncated archive (Compressed file "
     "ended before the end-of-stream marker was reached)"),
    ("gz-not-tar", "inventory",
     "netsnap: error: {R}/text.tgz: not a tar archive inside the compressed stream (invalid header)"),
    ("zstd", "inventory", "netsnap: error: {R}/x.tar.zst: zstd archives are not supported (use .tar, .tar.gz, "
     ".tar.xz or .zip)"),
    ("empty-file", "trace", "netsnap: error: {R}/empty.tgz: empty file"),
    ("zip-truncated", "inventory",
     "netsnap: error: {R}/zip-cut.zip: corrupt or truncated zip archive (no end of central directory)"),
    ("zip-bomb-single", "parse", "netsnap: error: {R}/single.zip: no readable files (skipped z0: compressed 1,028 "
     "to 1, over the ratio limit of 200 " + HINT.format("ratio=N") + ")"),
    ("dir-deeper-than-path-max", "inventory", "netsnap: error: {R}/deep-3000: no readable files (skipped "
     + "d/" * 64 + ": 65 levels deep, over the path-depth limit of 64 " + HINT.format("path-depth=N") + ")"),
    ("dir-empty", "inventory", "netsnap: error: {R}/empty-dir: no readable files"),
    ("dir-nothing-recognised", "analyze-text",
     "netsnap: error: no network data found in {R}/nothing: " + LOOKED_FOR + "; read 1 files, none recognised"),
    ("dir-proc", "parse",
     "netsnap: error: /proc: a file of the proc pseudo file system (kernel state, not a file to read)"),
    ("dir-sys", "inventory",
     "netsnap: error: /sys/class/net: a file of the sysfs pseudo file system (kernel state, not a file to read)"),
    ("bundle-dev-zero", "inventory", "netsnap: error: /dev/zero: not a regular file (device file)"),
    ("bundle-fifo", "parse", "netsnap: error: {R}/sg-fifo.json: not a regular file (fifo)"),
    ("bundle-socket", "inventory", "netsnap: error: {R}/sg.sock: not a regular file (socket)"),
    ("bundle-missing", "diff", "netsnap: error: {R}/no-such-bundle.tgz: no such file or directory"),
    ("bundle-symlink-loop", "inventory", "netsnap: error: {R}/sg-loop.json: a symlink loop"),
    ("bundle-path-esc", "analyze-text", "netsnap: error: {R}/no-such-\\x1b[2J\\x1b[31m\\x1b]0;pwned\\x07\\x0abundle: "
     "no such file or directory"),
    ("tar-unreadable", "inventory", "netsnap: error: {R}/unreadable.tgz: cannot open: Permission denied"),
    ("baseline-dev-zero", "analyze-text", "netsnap: error: /dev/zero: not a regular file (device file)"),
    ("rules-dir-fifo", "analyze-text", "netsnap: error: {R}/rules-fifo/ns999_hostile.py: not a regular file (fifo)"),
    ("rules-dir-dev-zero", "rules-list",
     "netsnap: error: {R}/rules-zero/ns999_hostile.py: not a regular file (device file)"),
    ("rules-dir-huge", "analyze-text", "netsnap: error: {R}/rules-huge/ns999_hostile.py: 3 GiB, over the "
     "document-size limit of 20 MiB " + HINT.format("document-size=SIZE")),
    ("rules-dir-dir-named-py", "analyze-text",
     "netsnap: error: {R}/rules-dirpy/ns999_hostile.py: not a regular file (directory)"),
    ("rules-dir-binary", "analyze-text",
     "netsnap: error: {R}/rules-binary/ns999_hostile.py: SyntaxError: source code string cannot contain null bytes"),
]


@pytest.mark.parametrize(("case", "label", "line"), REFUSALS, ids=[f"{c}-{lb}" for c, lb, _ in REFUSALS])
def test_refusal_is_one_exact_line(fast_matrix: Matrix, case: str, label: str, line: str) -> None:
    run = fast_matrix.run(case, label)
    assert run.rc == 2
    expected = line.format(R=fast_matrix.root)
    if line.endswith("at"):
        assert run.stderr.startswith(expected) and run.stderr.count("\n") == 1
    else:
        assert run.stderr == expected + "\n"


# (case, problem the bundle reports): what was read up to the attack is kept, the attack named
PROBLEMS = [
    ("tar-gnu-longname-4g", "stopped reading at ././@LongLink: a GNU long name header of 4 GiB, over the header-size "
     "limit of 1 MiB " + HINT.format("header-size=SIZE")),
    ("tar-gnu-longlink-1g", "stopped reading at ././@LongLink: a GNU long link header of 1 GiB, over the header-size "
     "limit of 1 MiB " + HINT.format("header-size=SIZE")),
    ("tar-pax-2g", "stopped reading at ././@LongLink: a PAX header of 2 GiB, over the header-size limit of 1 MiB "
     + HINT.format("header-size=SIZE")),
    ("tar-pax-global-1g", "stopped reading at ././@LongLink: a PAX global header of 1 GiB, over the header-size "
     "limit of 1 MiB " + HINT.format("header-size=SIZE")),
    ("tar-gnu-sparse-map", "stopped reading at sparse: a GNU sparse file (not supported)"),
    ("tar-pax-sparse-1.0", "stopped reading at GNUSparseFile.0/big: a PAX sparse file (not supported)"),
    ("tar-traversal", "skipped ../../../../tmp/netsnap-escaped: path traversal"),
    ("tar-traversal", "skipped /etc/cron.d/netsnap: absolute path"),
    ("tar-traversal", "skipped node1/a/../../../escaped: path traversal"),
    ("tar-links", "skipped node1/identity/hostname2: symlink"),
    ("tar-links", "skipped node1/routes/route-n2: hard link"),
    ("tar-links", "skipped node1/dev-zero: device file"),
    ("tar-symlink-as-source", "skipped node1/identity/hostname: symlink"),
    ("gz-truncated-half", "{R}/half.tgz: archive is truncated or corrupt after 22 members (Compressed file ended "
     "before the end-of-stream marker was reached); kept what was read"),
    ("gz-bitflip", "{R}/flip.tgz: archive is truncated or corrupt after 17 members (zlib error: Error -3 while "
     "decompressing data: invalid distance too far back); kept what was read"),
    ("xz-truncated", "{R}/half.txz: archive is truncated or corrupt after 22 members (Compressed file ended before "
     "the end-of-stream marker was reached); kept what was read"),
    ("zip-traversal", "skipped ../../../../tmp/netsnap-zip-escaped: path traversal"),
    ("zip-symlinks", "skipped node1/identity/hostname2: symlink"),
    ("dir-symlinks", "skipped identity/hostname: symlink"),
    ("dir-symlinks", "skipped loop-a: symlink"),
    ("loose-symlinks", "skipped route.txt: symlink"),
    ("dir-fifo-as-source", "skipped routes/ip-route: fifo"),
    ("dir-fifo-as-source", "skipped kernel/zero: device file"),
    ("dir-fifo-as-source", "skipped flannel/sock: socket"),
    ("dir-unreadable", "skipped routes/ip-route: Permission denied"),
    ("dir-unreadable", "skipped kernel: cannot read directory (Permission denied)"),
    ("dir-deep-1500", "skipped " + "d/" * 64 + ": 65 levels deep, over the path-depth limit of 64 "
     + HINT.format("path-depth=N")),
    ("manifest-not-json", "manifest.json: not valid JSON (Expecting property name enclosed in double quotes: line 1 "
     "column 2 (char 1))"),
    ("manifest-deep", "manifest.json: nested 100,001 levels deep, over the json-depth limit of 64 "
     + HINT.format("json-depth=N")),
    ("manifest-huge", "manifest.json: 40 MiB, over the document-size limit of 20 MiB "
     + HINT.format("document-size=SIZE")),
    ("manifest-array", "manifest.json: not a JSON object"),
    ("manifest-sources-not-list", "manifest.json: 'sources' is not a list"),
    ("manifest-many-unknown-ids", "manifest.json: 199,900 more unknown source ids ignored (only the first 100 are "
     "kept)"),
    ("sos-manifest-deep", "sos_reports/manifest.json: nested 100,001 levels deep, over the json-depth limit of 64 "
     + HINT.format("json-depth=N")),
    ("incident-a-folder", "{R}/incident-a: left out 2 files beside the bundles, none of them a bundle: "
     "README.md, sg-master.json"),
    ("same-bundle-twice", "the same bundle was given again as {R}/good-node1; analysed once"),
]


def _bundle_problems(run_stdout: str) -> list[str]:
    return [p for h in json.loads(run_stdout)["hosts"] for p in h["bundle"]["problems"]]


@pytest.mark.parametrize(("case", "problem"), PROBLEMS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(PROBLEMS)])
def test_the_attack_is_named_and_the_rest_kept(fast_matrix: Matrix, case: str, problem: str) -> None:
    run = fast_matrix.run(case, "parse-json")
    assert run.rc == 0, run.stderr
    assert problem.format(R=fast_matrix.root) in _bundle_problems(run.stdout)


def _hosts(m: Matrix, case: str) -> list[tuple[str, str]]:
    run = m.run(case, "parse-json")
    assert run.rc == 0, run.stderr
    return [(h["name"], h["bundle"]["path"].replace(str(m.root), "{R}")) for h in json.loads(run.stdout)["hosts"]]


@pytest.mark.parametrize(("case", "hosts"), [
    ("same-bundle-twice", [("node1", "{R}/good-node1")]),
    ("same-bundle-two-spellings", [("node1", "{R}/good-node1")]),
    ("two-bundles-one-host", [("node1 (good-node1)", "{R}/good-node1"), ("node1 (node1-b)", "{R}/node1-b")]),
    ("two-tarballs-one-host", [("node1 (node1-a.tgz)", "{R}/node1-a.tgz"), ("node1 (node1-b.tgz)", "{R}/node1-b.tgz")]),
    ("incident-a-folder", [("master", "{R}/incident-a/master"), ("node1", "{R}/incident-a/node1")]),
    ("tar-several-bundles", [("master", "{R}/cluster.tgz/cluster/master"), ("node1", "{R}/cluster.tgz/cluster/node1")]),
    ("zip-of-tarballs", [("master", "{R}/hosts.zip/ticket-123/master.tar.gz"),
                         ("node1", "{R}/hosts.zip/ticket-123/node1.tar.gz")]),
    ("zip-of-folders", [("master", "{R}/folders.zip/upload/master"), ("node1", "{R}/folders.zip/upload/node1")]),
    ("zip-as-tgz", [("node1", "{R}/zip-named.tgz")]),
    ("esc-names", [("node1\\x1b[2J\\x1b[31m\\x1b]0;pwned\\x07", "{R}/esc")]),
])
def test_hosts_of_an_input(fast_matrix: Matrix, case: str, hosts: list[tuple[str, str]]) -> None:
    assert _hosts(fast_matrix, case) == hosts


def test_two_bundles_claiming_one_host_stay_apart_in_the_report(fast_matrix: Matrix) -> None:
    run = fast_matrix.run("two-bundles-one-host", "analyze-json")
    text = run.stdout
    assert "node1 (good-node1)" in text and "node1 (node1-b)" in text and "node1#2" not in text


def test_nothing_of_etc_shadow_is_ever_read(fast_matrix: Matrix) -> None:
    with open("/etc/shadow", encoding="utf-8", errors="replace") as fh:
        first = fh.readline().strip()
    assert first
    for case in ("dir-symlinks", "loose-symlinks", "tar-links", "tar-symlink-as-source", "zip-symlinks"):
        for label in ("parse-json", "analyze-json", "inventory"):
            if f"{case}/{label}" in fast_matrix.runs:
                assert first not in fast_matrix.run(case, label).stdout
        report = fast_matrix.run(case, "analyze-html").job.workdir / "out" / "report.html"
        if report.exists():
            assert first not in report.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(("case", "problem"), [
    ("routes-1m", "routes/ip-route: not parsed: 1,000,001 lines, over the lines limit of 500,000 "
     + HINT.format("lines=N")),
    ("iptables-1m-chains", "firewall/iptables-save: not parsed: 2,000,006 lines, over the lines limit of 500,000 "
     + HINT.format("lines=N")),
    ("line-60mb", "routes/ip-route: not parsed: a line of 60 MiB, over the line-length limit of 256 KiB "
     + HINT.format("line-length=SIZE")),
    ("line-100mb", "skipped kernel/dmesg: 100 MiB, over the file-size limit of 64 MiB "
     + HINT.format("file-size=SIZE")),
])
def test_big_inputs_are_bounded_and_named(slow_matrix: Matrix, case: str, problem: str) -> None:
    assert problem in _bundle_problems(slow_matrix.run(case, "parse-json").stdout)


@pytest.mark.slow
def test_a_million_members_stop_at_the_members_limit(slow_matrix: Matrix) -> None:
    run = slow_matrix.run("tar-1m-members", "inventory")
    assert run.rc == 2
    assert run.stderr.startswith(f"netsnap: error: no network data found in {slow_matrix.root}/million.tgz: ")
    assert run.stderr.endswith("read 20,000 files, none recognised; 1 problems (first: stopped reading at "
                               "many/f0020000: over the members limit of 20,000 " + HINT.format("members=N") + ")\n")


@pytest.mark.slow
def test_a_million_zip_entries_are_refused_before_zipfile_reads_them(slow_matrix: Matrix) -> None:
    run = slow_matrix.run("zip-1m-entries", "inventory")
    assert run.stderr == (f"netsnap: error: {slow_matrix.root}/million.zip: 65,535 entries, over the members limit "
                          "of 20,000 " + HINT.format("members=N") + "\n")
