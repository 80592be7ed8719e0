"""Suite-wide settings: hypothesis never fails on timing (CI machines are shared and loaded), and on
CI (CI=true) its examples are derandomized so a run is reproducible."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("netsnap", deadline=None, print_blob=True)
settings.register_profile("netsnap-ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("netsnap-ci" if os.environ.get("CI") else "netsnap")
