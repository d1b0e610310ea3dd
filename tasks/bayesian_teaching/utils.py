"""lm-eval hooks of the Bayesian-teaching tasks: thin wrappers around ppt_bench.harness."""

from functools import partial

from ppt_bench.harness import bt_beliefs, bt_tasks
from ppt_bench.harness.bt_beliefs import agg_belief  # noqa: F401  (named by bt_flight_beliefs.yaml)
from ppt_bench.harness.scoring import *  # noqa: F403  (the pooled aggregations the YAMLs name)

process_results = bt_tasks.process_results
load_bt_flight = partial(bt_tasks.load, "bt_flight")
load_bt_hotel = partial(bt_tasks.load, "bt_hotel")
load_bt_shopping = partial(bt_tasks.load, "bt_shopping")
load_bt_flight_official = partial(bt_tasks.load, "bt_flight_official")
load_bt_hotel_official = partial(bt_tasks.load, "bt_hotel_official")
load_bt_webshop_official = partial(bt_tasks.load, "bt_webshop_official")
load_bt_flight_human = partial(bt_tasks.load, "bt_flight_human")
load_bt_flight_calib = partial(bt_tasks.load, "bt_flight_calib")
load_bt_hotel_calib = partial(bt_tasks.load, "bt_hotel_calib")
load_bt_shopping_calib = partial(bt_tasks.load, "bt_shopping_calib")
# Number of features: bt_flight_f2 .. bt_flight_f8 (bt_tasks.FEATURE_TASKS)
load_bt_flight_f2, load_bt_flight_f3, load_bt_flight_f4, load_bt_flight_f5, load_bt_flight_f6, \
    load_bt_flight_f7, load_bt_flight_f8 = (partial(bt_tasks.load, f"bt_flight_f{n}") for n in range(2, 9))
process_beliefs = bt_beliefs.process_results
load_bt_flight_beliefs = partial(bt_beliefs.load, "bt_flight_beliefs")
