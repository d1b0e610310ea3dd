"""lm-eval hooks of the human-judgment tasks: thin wrappers around ppt_bench.harness."""

from functools import partial

from ppt_bench.harness import bt_tasks
from ppt_bench.harness.human_tasks import agg_spearman, load_probcopa, process_probcopa  # noqa: F401
from ppt_bench.harness.scoring import *  # noqa: F403  (the pooled aggregations the YAMLs name)

process_bt = bt_tasks.process_results
load_bt_flight_human = partial(bt_tasks.load, "bt_flight_human")
