"""Errors meant for the user: the CLI prints them as one line (no traceback) and exits with status 2."""


class PPTBenchError(Exception):
    """Base class: something the user can fix (bad input, missing file or package, offline)."""


class DataError(PPTBenchError):
    """An external data file is missing, fails its checksum, or is malformed."""


class ModelError(PPTBenchError):
    """A model name cannot be resolved, or its package is missing."""


class ConfigError(PPTBenchError):
    """A configuration file or option is invalid."""
