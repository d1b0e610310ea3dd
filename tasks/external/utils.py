"""lm-eval hooks of the external estimation tasks: thin wrappers around ppt_bench.harness."""

from ppt_bench.harness.external_tasks import load_openestimate, process_estimation  # noqa: F401
from ppt_bench.harness.prior_tasks import (  # noqa: F401
    agg_quartile_ece,
    agg_unc_corr,
    load_openestimate_prior,
    process_prior,
)
from ppt_bench.harness.scoring import *  # noqa: F403  (the pooled aggregations the YAMLs name)
