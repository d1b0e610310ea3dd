"""The bounds on authored text in ppt-bench's own process, and `Rejected`, the one way a program fails.

Threat model: an author (a model, a server, a person) controls the whole reply. The parent process
(ppt-bench) only ever handles that text as data: it measures it, parses it with `ast` and renders a
story template; the program itself runs only in the sandbox child (see `runner`). Every parent step is
bounded before it starts, so one reply costs at most about MAX_REPLY_CHARS characters of text plus an
`ast` of a MAX_SOURCE_CHARS source, and ends in a scenario or a `Rejected` with a reason:

    reply      <= MAX_REPLY_CHARS characters, fences found with str.find (no regex backtracking)
    source     <= MAX_SOURCE_CHARS characters, valid UTF-8 text, `ast` nesting <= MAX_AST_DEPTH
    metadata   exact types (bool is not a number), lengths below, printable text only
    STORY      plain {name} placeholders only, rendered by `template` (never str.format)
    child      stdout <= MAX_STDOUT_BYTES, stderr <= MAX_STDERR_BYTES, WALL_SECONDS, then killed;
               its JSON result is checked field by field (`result`) before it is used
"""

from __future__ import annotations

MAX_REPLY_CHARS = 100_000
MAX_SOURCE_CHARS = 20_000
MAX_AST_DEPTH = 40
MAX_INT_LITERAL = 100_000
MAX_LOOP = 1_000

MIN_CHOICES, MAX_CHOICES = 2, 10
MAX_CHOICE_CHARS = 120
MAX_STORY_CHARS = 2_000
MAX_QUESTION_CHARS = 300
MAX_OBSERVED = 10
MAX_PLACEHOLDERS = 20
MAX_RENDERED_STORY_CHARS = 8_000
MAX_OBSERVED_VALUES = 200
MAX_OBSERVED_DEPTH = 4

MAX_STDOUT_BYTES = 256 * 1024
MAX_STDERR_BYTES = 256 * 1024
MAX_DETAIL_CHARS = 200


class Rejected(Exception):
    """An authored program is not acceptable; `reason` is a short category, `detail` one line saying where.

    `usage` is the sandbox child's `ChildUsage` when the rejection came from a child run, else None.
    """

    def __init__(self, reason: str, detail: str = "", usage=None):
        detail = " ".join(str(detail).split())[:MAX_DETAIL_CHARS]
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail, self.usage = reason, detail, usage
