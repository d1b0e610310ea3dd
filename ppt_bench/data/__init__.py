"""External data sets: a registry of pinned files, fetching with checksums, and validating readers."""

from ppt_bench.data.fetch import (
    ENV_CACHE_DIR,
    ENV_DATA_DIR,
    FetchedFile,
    cache_dir,
    data_roots,
    dataset_path,
    fetch,
    sha256_of,
)
from ppt_bench.data.parse import (
    EstimationVariable,
    ProbcopaItem,
    ProbcopaRating,
    iter_jsonl,
    read_json,
    read_openestimate_variables,
    read_probcopa_items,
    read_probcopa_ratings,
    summarize_dataset,
)
from ppt_bench.data.registry import DATASETS, Archive, Dataset, RemoteFile, get_dataset

__all__ = [
    "DATASETS", "ENV_CACHE_DIR", "ENV_DATA_DIR", "Archive", "Dataset", "EstimationVariable", "FetchedFile",
    "ProbcopaItem", "ProbcopaRating", "RemoteFile", "cache_dir", "data_roots", "dataset_path", "fetch",
    "get_dataset", "iter_jsonl", "read_json", "read_openestimate_variables", "read_probcopa_items",
    "read_probcopa_ratings", "sha256_of", "summarize_dataset",
]
