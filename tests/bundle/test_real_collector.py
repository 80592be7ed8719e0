"""The reader opens what the real collector script writes (run read-only on this machine)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from netsnap.bundle.collector import STATUS_STATE
from netsnap.bundle.reader import open_bundle
from netsnap.model.host import SourceState

SCRIPT = Path(__file__).resolve().parents[2] / "collectors" / "netsnap-collect.sh"


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists() or shutil.which("bash") is None, reason="collector script not present")
def test_reader_opens_the_collectors_bundle(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(SCRIPT), "--output", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    bundle = open_bundle(path)
    with tarfile.open(path) as tar:
        manifest_member = next(m for m in tar.getmembers() if m.name.endswith("/manifest.json"))
        stream = tar.extractfile(manifest_member)
        assert stream is not None
        manifest = json.load(stream)
    assert bundle.kind == "collector"
    assert bundle.host == manifest["hostname"]
    assert bundle.problems == []  # every sha256 in the manifest matches what the reader read
    for entry in manifest["sources"]:
        sf = bundle.files.get(entry["id"]) or bundle.missing[entry["id"]]
        expected = STATUS_STATE[entry["status"]]
        assert sf.state is expected or (expected is SourceState.OK and sf.state is SourceState.EMPTY), entry
        assert sf.file == entry["path"]
    assert bundle.files["ip_addr"].text.startswith("1: lo:")
