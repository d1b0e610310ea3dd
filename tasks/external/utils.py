"""lm-eval hooks of the external estimation tasks: thin wrappers around ppt_bench.harness."""

from ppt_bench.harness.external_tasks import load_openestimate, process_estimation  # noqa: F401
from ppt_bench.harness.scoring import *  # noqa: F403  (the pooled aggregations the YAMLs name)
