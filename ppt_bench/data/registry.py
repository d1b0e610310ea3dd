"""The registry of external data sets: what each file is, where it comes from, and its checksum.

Files are pinned to a commit URL and a sha256. The Bayesian-teaching data is published as one zip
archive whose publisher gives no sha256; it is marked unpinned (`sha256=None`): its digest is
recorded on first download and checked on every later fetch, and the unpacked folder is validated
file by file when read.
"""

from __future__ import annotations

from dataclasses import dataclass

_PROBCOPA_COMMIT = "https://raw.githubusercontent.com/McGill-NLP/probabilistic-reasoning/b983b12dd3b5b0efd01ee7f990ea5c5791a6d4d1"
_OPENESTIMATE_COMMIT = "https://raw.githubusercontent.com/alanarenda/openestimate/4c4c97509412b264a68c2a4514025b8f19829869"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set: its path inside the data root, pinned URL and sha256 (hex)."""

    path: str
    url: str
    sha256: str


@dataclass(frozen=True)
class Archive:
    """A zip archive unpacked into the data root; `required` are paths that must exist after unpacking.

    `strip` is the archive's top folder, replaced by the data set's own folder when unpacking.
    """

    url: str
    sha256: str | None
    strip: str
    required: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    """An external data set: files (or one archive) under `<data root>/<name>/`."""

    name: str
    title: str
    licence: str
    citation: str
    files: tuple[RemoteFile, ...] = ()
    archive: Archive | None = None

    @property
    def pinned(self) -> bool:
        return self.archive is None or self.archive.sha256 is not None


DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            name="probcopa",
            title="ProbCOPA: human likelihood judgments (210 items, 5,858 ratings)",
            licence="MIT",
            citation="Kamath et al., Humans and LLMs Diverge on Probabilistic Inferences, arXiv 2602.23546",
            files=(
                RemoteFile("probcopa/probcopa_CANARY.jsonl",
                           f"{_PROBCOPA_COMMIT}/datasets/probcopa_CANARY.jsonl",
                           "fadc90cbaf2a7b228e6830c19e7b9b1bf7e4d78df1e1b113fbcb215dab95be1d"),
                RemoteFile("probcopa/probcopa_items.jsonl",
                           f"{_PROBCOPA_COMMIT}/datasets/probcopa_items.jsonl",
                           "604d75e51af67925e48ab032a7e2f4a82454225fddec328df2a4caa340e57b40"),
            ),
        ),
        Dataset(
            name="openestimate",
            title="OpenEstimate: 181 real-world quantities with ground-truth distributions",
            licence="MIT",
            citation="Renda et al., OpenEstimate, arXiv 2510.15096",
            files=tuple(
                RemoteFile(f"openestimate/variables/{domain}_variables.json",
                           f"{_OPENESTIMATE_COMMIT}/data/variables/{domain}_variables.json", digest)
                for domain, digest in (
                    ("glassdoor", "033836a626bfcfdba32f5f4c82fde0e4ea62ed291d6ff40ddee5276292412b3b"),
                    ("nhanes", "009644354a02f627989a7c5f2a4db8914b2956dc69851b4913f99e12818a645d"),
                    ("pitchbook", "2f8ba435b371c94a68c7ca21bfbd1db20e3530cb1e30b5dd7457cdbacda212d6"),
                )
            ),
        ),
        Dataset(
            name="bayesian_teaching",
            title="Bayesian teaching: flight/hotel/web-shop interactions, held-out sets, human participants",
            licence="as stated on Zenodo record 17677329",
            citation="Qiu et al., Bayesian teaching enables probabilistic reasoning in large language "
                     "models, Nature Communications 17:1238 (2026)",
            archive=Archive(
                url="https://zenodo.org/records/17677329/files/data.zip",
                sha256=None,
                strip="data",
                required=("eval/interaction/flight.jsonl", "eval/heldout/flight.json"),
            ),
        ),
    )
}


def get_dataset(name: str) -> Dataset:
    """The registered data set called `name`; a clear error listing the known names otherwise."""
    from ppt_bench.errors import DataError

    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}") from None
