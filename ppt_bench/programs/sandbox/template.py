"""STORY templates: literal text with plain `{name}` placeholders, parsed and rendered without str.format.

    "Out of 12 shots, {made} went in. {{Braces}} are doubled."
        -> parts (("Out of 12 shots, ", "made"), (" went in. {Braces} are doubled.", None))

A placeholder is `{` + a Python identifier + `}`; `{{` and `}}` are literal braces. Format
specifications (`{x:>999999999}`), conversions (`{x!r}`), attribute or index fields (`{x.real}`,
`{x[0]}`), nested fields and lone braces are rejected, so rendering a story costs only the length of
its text plus the values shown, and that total is checked before the string is built.
"""

from __future__ import annotations

from collections.abc import Mapping

from ppt_bench.programs.sandbox.limits import MAX_PLACEHOLDERS, Rejected

Parts = tuple[tuple[str, str | None], ...]


def parse_template(text: str, names: frozenset[str] | set[str] | tuple[str, ...]) -> Parts:
    """Split `text` into (literal, field-or-None) pairs; every field must be one of `names`."""
    parts, literal, position, fields = [], [], 0, 0
    while position < len(text):
        char = text[position]
        if text.startswith("{{", position) or text.startswith("}}", position):
            literal.append(char)
            position += 2
        elif char == "{":
            end = text.find("}", position + 1)
            field = text[position + 1:end] if end != -1 else ""
            if end == -1 or not field.isidentifier() or not field.isascii():
                shown = text[position:position + 20]
                raise Rejected("bad-template", f"STORY placeholders must be plain {{name}}, got {shown!r}")
            if field not in names:
                raise Rejected("bad-template", f"STORY placeholder {{{field}}} is not an observed site")
            fields += 1
            if fields > MAX_PLACEHOLDERS:
                raise Rejected("bad-template", f"more than {MAX_PLACEHOLDERS} STORY placeholders")
            parts.append(("".join(literal), field))
            literal, position = [], end + 1
        elif char == "}":
            raise Rejected("bad-template", f"lone '}}' at character {position} of STORY (write '}}}}')")
        else:
            literal.append(char)
            position += 1
    return (*parts, ("".join(literal), None))


def render_template(parts: Parts, values: Mapping[str, str], max_chars: int) -> str:
    """Join the parts with `values[field]`; raise Rejected when the result would exceed max_chars."""
    length = sum(len(literal) + (len(values[field]) if field is not None else 0) for literal, field in parts)
    if length > max_chars:
        raise Rejected("too-long", f"rendered STORY would be {length} characters (max {max_chars})")
    return "".join(literal + (values[field] if field is not None else "") for literal, field in parts)
