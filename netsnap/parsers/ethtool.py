"""Concatenated `ethtool -k DEV` outputs -> Parsed[EthtoolFeature], via templates/ethtool.ttp.

Each `Features for DEV:` (or old `Offload parameters for DEV:`) starts a device; its
`name: on|off` lines (indented sub-features too) become features; `[fixed]` sets `fixed`;
`[requested on]` / `[not requested]` are understood (the state shown is what the kernel uses).
`Cannot get ...` lines are understood noise. A feature line before any device header is
unparsed (the device is unknown). `expected` is the number of feature lines.
"""

from __future__ import annotations

from pydantic import ValidationError

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import EthtoolFeature
from netsnap.parsers.ttp_runner import run_template

SOURCE = "ethtool"


def parse(text: str, file: str) -> Parsed[EthtoolFeature]:
    """Parse ethtool -k output; never raises."""
    try:
        return _parse(text, file)
    except MemoryError:  # the process memory limit: give up this file, never retry in its handler
        raise
    except Exception as exc:  # a bug must not lose the file
        return Parsed[EthtoolFeature](source=SOURCE, file=file,
                                      notes=[f"ethtool parser failed: {type(exc).__name__}: {exc}"],
                                      unparsed=[UnparsedLine(line=i, text=t)
                                                for i, t in enumerate(text.splitlines(), 1) if t.strip()])


def _parse(text: str, file: str) -> Parsed[EthtoolFeature]:
    records, unparsed, lines = run_template("ethtool", text, "devs")
    items: list[EthtoolFeature] = []
    notes: list[str] = []
    expected = 0
    for dev in records:
        features = dev.get("features", [])
        if isinstance(features, dict):
            features = [features]
        for feat in features:
            if not isinstance(feat, dict) or "noise" in feat or "name" not in feat:
                continue
            ln = int(feat["feat_ln"])
            raw = lines[ln - 1] if 0 < ln <= len(lines) else ""
            expected += 1
            flags = str(feat.get("flags", ""))
            try:
                items.append(EthtoolFeature(dev=str(dev.get("dev", "")), name=str(feat["name"]),
                                            enabled=feat.get("state") == "on", fixed="fixed" in flags,
                                            src=Provenance(file=file, line=ln), raw=raw))
            except ValidationError as exc:
                unparsed.append(UnparsedLine(line=ln, text=raw))
                notes.append(f"line {ln}: {exc.errors()[0]['msg']}")
    items.sort(key=lambda f: f.src.line)
    unparsed.sort(key=lambda u: u.line)
    return Parsed[EthtoolFeature](source=SOURCE, file=file, items=items, unparsed=unparsed, expected=expected,
                                  notes=notes)
