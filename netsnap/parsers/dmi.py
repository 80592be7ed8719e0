"""`/sys/class/dmi/id/{sys_vendor,product_name,chassis_asset_tag}` -> Parsed[IdentityFact].

Each file holds one line, the value the firmware reports (`OpenStack Foundation`, `OpenStack Nova`,
`Amazon EC2`, `Google Compute Engine`, `QEMU`, `VMware, Inc.`...). The item's key is `dmi.<name>`,
the name taken from the file (collector `identity/dmi-sys-vendor`, sosreport
`sys/class/dmi/id/sys_vendor`). Further lines are unparsed; an empty file gives no item (some
hypervisors leave the asset tag empty).
"""

from __future__ import annotations

import posixpath

from netsnap.model.base import Parsed, Provenance, UnparsedLine
from netsnap.model.host import IdentityFact
from netsnap.parsers.records import never_raises, one_value

SOURCE = "identity"
NAMES = ("sys_vendor", "product_name", "chassis_asset_tag")


def dmi_name(file: str) -> str | None:
    """The DMI attribute a file holds, from its name (`dmi-sys-vendor`, `sys_vendor`); None if it names none."""
    base = posixpath.basename(file).replace("-", "_")
    return next((name for name in NAMES if name in base), None)


@never_raises(Parsed[IdentityFact], SOURCE)
def parse(text: str, file: str) -> Parsed[IdentityFact]:
    """Parse one DMI attribute file; never raises."""
    result: Parsed[IdentityFact] = Parsed(source=SOURCE, file=file)
    value = one_value(result, text)
    if value is None:
        return result
    ln, first = value
    name = dmi_name(file)
    if name is None:
        result.unparsed.insert(0, UnparsedLine(line=ln, text=first))
        result.notes.append(f"{file}: not a DMI attribute netsnap reads ({', '.join(NAMES)})")
    else:
        result.items.append(IdentityFact(key=f"dmi.{name}", value=first.strip(), src=Provenance(file=file, line=ln),
                                         raw=first))
    return result
