"""`ppt-bench data list|fetch|path`: the external data sets."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the registered data sets and whether a copy is present",
                                 description="List the registered data sets, their licences and files.")
    fetch = actions.add_parser("fetch", help="download (if needed) and verify a data set",
                               description="Make a data set present and verified: use a local copy "
                                           "when there is one, else download it (checksum-verified).")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="data set name(s), or 'all'")
    fetch.add_argument("--offline", action="store_true",
                       help="never use the network (also: PPT_BENCH_OFFLINE=1)")
    path = actions.add_parser("path", help="print the folder of a data set (fetching it first)",
                              description="Print the folder holding a data set, fetching it first.")
    path.add_argument("name", metavar="NAME")
    path.add_argument("--offline", action="store_true", help="never use the network")
    for sub in (listing, fetch, path):
        sub.add_argument("--data-dir", metavar="DIR",
                         help="data root to use instead of $PPT_BENCH_DATA_DIR / the cache")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.data import DATASETS, data_roots, dataset_path, fetch, summarize_dataset

    if args.action == "list":
        roots = data_roots(args.data_dir)
        print(f"data roots searched: {', '.join(str(root) for root in roots)}")
        for dataset in DATASETS.values():
            present = any(
                all((root / entry.path).is_file() for entry in dataset.files) if dataset.files
                else (root / dataset.name).is_dir() for root in roots)
            print(f"{dataset.name:<18} {'present' if present else 'missing':<8} {dataset.licence:<8}  "
                  f"{dataset.title}")
        return 0
    if args.action == "path":
        print(dataset_path(args.name, args.data_dir, offline=args.offline or None))
        return 0
    names = list(DATASETS) if args.names == ["all"] else args.names
    for name in names:
        fetched = fetch(name, args.data_dir, offline=args.offline or None)
        for item in fetched:
            if item.pinned:
                check = f"sha256 {item.sha256} verified"
            elif item.sha256:
                check = f"unpinned archive, sha256 {item.sha256} recorded at first download"
            else:
                check = "unpinned archive (publisher gives no sha256); files validated"
            print(f"{name}: {item.path} ({item.source}; {check})")
        folder = dataset_path(name, args.data_dir, offline=True)
        print(f"{name}: {summarize_dataset(name, folder)}")
    return 0
