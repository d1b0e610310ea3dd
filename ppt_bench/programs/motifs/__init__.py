"""The motif library: every motif, in a fixed order (the order is part of the generator's determinism).

`MOTIFS` maps motif name -> Motif. Importing this package imports numpyro (the models are numpyro
programs) but does no work.
"""

from __future__ import annotations

from ppt_bench.programs._motif import Motif
from ppt_bench.programs.motifs import continuous, counts, discrete, structured

_ALL: tuple[Motif, ...] = (*counts.MOTIFS, *continuous.MOTIFS, *discrete.MOTIFS, *structured.MOTIFS)

MOTIFS: dict[str, Motif] = {motif.name: motif for motif in _ALL}
assert len(MOTIFS) == len(_ALL), "motif names must be unique"


def motifs_for_split(split: str) -> tuple[Motif, ...]:
    """Motifs of one split ('train', 'heldout') or all of them ('all'), in library order."""
    if split == "all":
        return _ALL
    chosen = tuple(m for m in _ALL if m.split == split)
    if not chosen:
        raise ValueError(f"unknown split {split!r}; use train, heldout or all")
    return chosen
