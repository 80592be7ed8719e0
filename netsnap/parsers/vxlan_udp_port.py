"""`/sys/module/vxlan/parameters/udp_port` -> Parsed[ModuleParameter] (one item: the port).

The file holds one decimal number, the vxlan module's default UDP port (8472 unless set). Any other
line is unparsed; a value that is not a port number leaves no item, its line unparsed and a note.
`expected` is 1 when the file has a line.
"""

from __future__ import annotations

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.kernel import ModuleParameter
from netsnap.parsers.records import never_raises, one_value

SOURCE = "vxlan_udp_port"


@never_raises(Parsed[ModuleParameter], SOURCE)
def parse(text: str, file: str) -> Parsed[ModuleParameter]:
    """Parse the udp_port parameter file; never raises."""
    result: Parsed[ModuleParameter] = Parsed(source=SOURCE, file=file)
    line = one_value(result, text)
    if line is None:
        return result
    ln, first = line
    value = first.strip()
    if value.isdigit() and 0 < int(value) < 65536:
        result.items.append(ModuleParameter(module="vxlan", name="udp_port", value=value,
                                            src=Provenance(file=file, line=ln), raw=first))
    else:
        result.unparsed.insert(0, UnparsedLine(line=ln, text=first))
        result.notes.append(f"{file}:{ln}: {value!r} is not a UDP port")
    return result
