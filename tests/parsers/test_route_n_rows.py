"""route_n reads the common data row in Python with the template's pattern; every other line goes to TTP.
`read_rows` must give exactly TTP's records, line for line, on every route_n input of the repository,
the bench's generated table, and variants built to sit on the boundary (tabs, leading and trailing
blanks, names, non-ASCII digits and blanks, too few columns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsnap.parsers.route_n import SOURCE, read_rows
from netsnap.parsers.ttp_runner import run_template
from tests.bench_generator import bench_generate

ROOT = Path(__file__).resolve().parents[2]


def _inputs() -> list[tuple[str, str]]:
    out = [(p.name, p.read_bytes().decode("utf-8", errors="replace"))
           for p in sorted((ROOT / "tests" / "parsers" / "fixtures" / "route_n").glob("*.in"))]
    out += [(str(p.relative_to(ROOT)), p.read_text(errors="replace")) for p in sorted((ROOT / "fixtures").rglob("*"))
            if p.is_file() and p.name in ("route-n", "route", "netstat-rn", "route_-n")]
    out.append(("generated", bench_generate().routes(300)[0]))
    row = "10.244.1.0      10.0.0.2        255.255.255.0   UG    0      0        0 eth0"
    variants = [row, " " + row, row + " ", row.replace("  ", "\t", 1), "\t" + row, row.replace(" ", "\u00a0", 3),
                row.replace("10.244.1.0", "１0.244.1.0"), row.replace("10.244.1.0", "default"),
                "10.244.1.0 10.0.0.2 255.255.255.0 UG", "10.244.1.0 10.0.0.2 255.255.255.0", "10.244.1.0",
                "1.2.3 10.0.0.2 255.255.255.0 UG 0 0 0 eth0", "010.1.1.1 - 255.0.0.0 ! 0 - 0 -",
                "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface", "10.0.0.0 x y z w\r"]
    out.append(("variants", "\n".join(variants) + "\n"))
    return out


CASES = _inputs()


def _key(records: list[dict[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted(r.items())) for r in records)


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_read_rows_gives_ttps_records(name: str, text: str) -> None:
    records, lines = read_rows(text)
    ttp_records, _, ttp_lines = run_template(SOURCE, text, "rows")
    assert lines == ttp_lines
    assert _key(records) == _key(ttp_records)


def test_the_inputs_hold_rows_both_ways() -> None:
    assert len(CASES) > 15
    python_rows = sum(len(read_rows(text)[0]) for _, text in CASES)
    assert python_rows > 300
