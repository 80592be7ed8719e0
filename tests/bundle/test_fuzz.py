"""Garbage in never raises anything but BundleError (archives) and never raises at all (sniffers)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsnap.bundle.model import BundleError
from netsnap.bundle.reader import open_bundle
from netsnap.bundle.sniff import sniff
from tests.bundle.tarbuild import add_file

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _open(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.tgz"
    path.write_bytes(data)
    try:
        bundle = open_bundle(path)
    except BundleError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert bundle.kind in ("collector", "sosreport", "loose")


def _valid_tgz() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        add_file(tar, "top/routes/route-n", "Destination     Gateway         Genmask         Flags\n" * 20)
        add_file(tar, "top/manifest.json", '{"format": "netsnap-bundle/1", "sources": []}')
        add_file(tar, "top/flannel/journal", "2026-11-26T10:00:00+0000 h flanneld[1]: hi\n" * 50)
    return buf.getvalue()


VALID = _valid_tgz()


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    _open(tmp_path, data)


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=0, max_value=255))
def test_flipped_byte_in_a_valid_archive(tmp_path: Path, offset: int, value: int) -> None:
    data = bytearray(VALID)
    data[offset] = value
    _open(tmp_path, bytes(data))


@FUZZ
@given(st.integers(min_value=1, max_value=len(VALID) - 1))
def test_truncated_valid_archive(tmp_path: Path, cut: int) -> None:
    _open(tmp_path, VALID[:cut])


@FUZZ
@given(st.binary(max_size=20_000))
def test_gzip_of_random_bytes(tmp_path: Path, data: bytes) -> None:
    _open(tmp_path, gzip.compress(data))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000), st.text(max_size=30))
def test_sniff_never_raises(text: str, name: str) -> None:
    result = sniff(text, name)
    assert result is None or isinstance(result, str)
