"""Person names for scenarios (drawn with the scenario's numpy generator, never at import time)."""

from __future__ import annotations

import numpy as np

NAMES: tuple[str, ...] = (
    "Ada", "Bilal", "Chen", "Dalia", "Emeka", "Fatima", "Goran", "Hana", "Ines", "Jomo", "Kai", "Lena",
    "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wen", "Yusuf",
    "Zoe", "Arjun", "Beatriz", "Dmitri", "Elif", "Farah", "Hugo", "Keiko", "Luis", "Maya", "Noor", "Pavel",
)


def pick_name(rng: np.random.Generator) -> str:
    return str(NAMES[int(rng.integers(len(NAMES)))])


def pick_names(rng: np.random.Generator, k: int) -> list[str]:
    return [str(NAMES[i]) for i in rng.choice(len(NAMES), size=k, replace=False)]
