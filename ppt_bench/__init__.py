"""ppt-bench: evaluation, calibration and training for probabilistic (Bayesian) reasoning in LLMs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ppt-bench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
