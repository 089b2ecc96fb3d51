"""The data notice (sources and terms) shipped with the package and copied next to every build."""

from __future__ import annotations

from importlib.resources import files

NOTICE_FILE = "DATA_NOTICE.md"


def data_notice() -> str:
    """The text of DATA_NOTICE.md: sources, versions and licences of the real data; what is synthetic."""
    return files("territory_geodata").joinpath(NOTICE_FILE).read_text(encoding="utf-8")
