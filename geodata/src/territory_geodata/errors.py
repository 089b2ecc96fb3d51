"""The builder's errors: every failure to obtain or trust an input is one of these."""


class GeodataError(Exception):
    """Base class of the geodata builder's errors."""


class SourceUnavailable(GeodataError):
    """An input could not be obtained (package not installed, registry not reachable, npm missing...)."""


class ChecksumMismatch(GeodataError):
    """An input file's sha256 is not the pinned one: the data changed under a pinned version."""
