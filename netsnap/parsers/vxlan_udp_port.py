"""`/sys/module/vxlan/parameters/udp_port` -> Parsed[ModuleParameter] (one item: the port).

The file holds one decimal number, the vxlan module's default UDP port (8472 unless set). Any other
line is unparsed; a value that is not a port number leaves no item, its line unparsed and a note.
`expected` is 1 when the file has a line.
"""

from __future__ import annotations

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import ModuleParameter
from netsnap.parsers.records import never_raises
from netsnap.parsers.ttp_runner import number_lines

SOURCE = "vxlan_udp_port"


@never_raises(Parsed[ModuleParameter], SOURCE)
def parse(text: str, file: str) -> Parsed[ModuleParameter]:
    """Parse the udp_port parameter file; never raises."""
    result: Parsed[ModuleParameter] = Parsed(source=SOURCE, file=file)
    lines = [(i, line) for i, line in enumerate(number_lines(text)[1], start=1) if line.strip()]
    if not lines:
        return result
    result.expected = 1
    (ln, first), rest = lines[0], lines[1:]
    value = first.strip()
    if value.isdigit() and 0 < int(value) < 65536:
        result.items.append(ModuleParameter(module="vxlan", name="udp_port", value=value,
                                            src=Provenance(file=file, line=ln), raw=first))
    else:
        result.unparsed.append(UnparsedLine(line=ln, text=first))
        result.notes.append(f"{file}:{ln}: {value!r} is not a UDP port")
    result.unparsed.extend(UnparsedLine(line=i, text=line) for i, line in rest)
    return result
