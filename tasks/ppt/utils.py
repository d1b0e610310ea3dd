"""lm-eval hooks of the PPT tasks: thin wrappers around ppt_bench.harness."""

from functools import partial

from ppt_bench.harness import ppt_tasks
from ppt_bench.harness.scoring import *  # noqa: F403  (the pooled aggregations the YAMLs name)

process_results = ppt_tasks.process_results
load_ppt_motifs_heldout = partial(ppt_tasks.load, "ppt_motifs_heldout")
load_ppt_motifs_train = partial(ppt_tasks.load, "ppt_motifs_train")
load_ppt_motifs_heldout_calib = partial(ppt_tasks.load, "ppt_motifs_heldout_calib")
load_ppt_motifs_train_calib = partial(ppt_tasks.load, "ppt_motifs_train_calib")
