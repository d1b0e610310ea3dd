"""Renderers of a `Leaderboard` (`ppt_bench/report/leaderboard.py`): markdown, CSV, static HTML.

Pure functions: they only format. The HTML is one self-contained page (inline CSS and a small
sorting script; no fonts, no network) that fits a laptop's width: a summary table first, then one
section per task family with one narrow table per task.
"""

from __future__ import annotations

import csv
import html
import io
import math

from ppt_bench.report.leaderboard import FAMILIES, HEADER, Cell, Column, Leaderboard, Row, TaskTable

SCORE_TEXT = ("Summary score per task: (m − m_uniform) / (m_bayes − m_uniform) on the task's headline "
              "metric m, with the reference rows of the same size and version: 0 = answering 1/K "
              "(`ppt-uniform`), 1 = the Bayes-optimal answer (`ppt-bayes`), i.e. the share of the gap to "
              "the Bayes-optimal answer a model closes (negative: worse than uniform). Mean: over the "
              "tasks a model has a score on (n); means over different task sets are not comparable.")
CELL_TEXT = ("Each cell is the metric value ± the half-width of its 95% interval (1.96 × lm-eval's stderr; "
             "pooled metrics such as `ece` have none); where the interval reaches past the metric's range it "
             "is clipped there and shown as `value [low, high]`. ↑ higher is better, ↓ lower is better; the "
             "best model value of each column is in bold (reference rows never are). `nll_scaled`, "
             "`ece_scaled`: after temperature scaling, T fitted on the task's calibration split (its "
             "`_calib` twin, or a hash split of a fixed data set) and scored on the test split; `T` gives the "
             "number of items it was fitted on and a ⚠ flag when T is at its bound or fitted on fewer than "
             "300 items. Reference rows: `ppt-bayes` answers with the exact soft label, `ppt-uniform` with "
             "1/K. Rows made at another size or task version are listed apart until evaluated again.")


SOURCE_TEXT = ("This folder is built from the compact result records committed in `records/` (one JSON per "
               "model: metrics, T, sizes, how it was made; no logged samples) merged with any run directories "
               "passed to `ppt-bench leaderboard`: a row is only added or updated, task by task, never dropped. "
               "`make run` (`ppt-bench run`) never changes this folder: it writes its own leaderboard, the "
               "committed records plus its runs, to `runs/leaderboard/` and its figures to `runs/figures/`. "
               "To add or update committed rows: `ppt-bench leaderboard RUN_DIR... --save-records --out "
               "leaderboards`, then commit `leaderboards/`.")


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return ""
    text = f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return f"{0:.{digits}f}" if text == f"-{0:.{digits}f}" else text  # float noise around 0


def cell_text(cell: Cell, column: Column | None = None) -> str:
    if cell.value is None:
        return "—"
    if column is not None and column.metric == "T":
        flagged = ";" in cell.note
        return f"{cell.value:.3g}{' ⚠' if flagged else ''} {cell.note}"
    if cell.low is None:
        return _fmt(cell.value)
    if abs((cell.high - cell.value) - (cell.value - cell.low)) < 5e-4:
        return f"{_fmt(cell.value)} ± {(cell.high - cell.low) / 2:.3f}"
    return f"{_fmt(cell.value)} [{_fmt(cell.low)}, {_fmt(cell.high)}]"  # clipped at the metric's range


def _arrow(column: Column) -> str:
    return "" if column.higher_is_better is None else " ↑" if column.higher_is_better else " ↓"


def table_title(table: TaskTable) -> str:
    return f"{table.task} ({table.size}" + (f", version {table.version})" if table.version else ")")


# --- markdown -----------------------------------------------------------------------------------

def _md_row(label: str, cells: list[str]) -> str:
    return f"| {label} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_task(table: TaskTable) -> list[str]:
    lines = [f"### {table_title(table)}", "",
             "| model | " + " | ".join(f"{c.metric}{_arrow(c)}" for c in table.columns) + " |",
             "|---|" + "---:|" * len(table.columns)]
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row.cells):
            text = cell_text(cell, table.columns[i])
            best = table.best(i)
            cells.append(f"**{text}**" if best is not None and cell.value == best else text)
        lines.append(_md_row(row.name, cells))
    for row in table.references:
        lines.append(_md_row(f"_{row.name} (reference)_", [cell_text(c, col) for c, col in
                                                          zip(row.cells, table.columns, strict=True)]))
    if table.apart:
        lines += ["", "Listed apart (another size or version; not ranked):", "",
                  "| model | size | " + " | ".join(f"{c.metric}{_arrow(c)}" for c in table.columns) + " |",
                  "|---|---|" + "---:|" * len(table.columns)]
        for row in table.apart:
            label = f"_{row.name} (reference)_" if row.reference else row.name
            lines.append(_md_row(label, [row.size, *(cell_text(c, col) for c, col in
                                                     zip(row.cells, table.columns, strict=True))]))
    return [*lines, ""]


def _md_summary(board: Leaderboard) -> list[str]:
    if not board.summary_columns:
        return ["No task has both reference rows at its current size: no summary scores.", ""]
    lines = ["| model | mean (n) | " + " | ".join(f"{task} ({metric})" for task, metric in board.summary_columns)
             + " |", "|---|---:|" + "---:|" * len(board.summary_columns)]
    for row in board.summary:
        label = f"_{row.name} (reference)_" if row.reference else row.name
        mean = f"{_fmt(row.mean, 2)} ({row.n_tasks})" if row.mean is not None else "—"
        lines.append(_md_row(label, [mean, *(_fmt(s, 2) if s is not None else "—" for s in row.scores)]))
    return [*lines, ""]


def _record_lines(board: Leaderboard) -> list[str]:
    lines = ["| model | evaluated as | from | lm-eval | git SHA | date |", "|---|---|---|---|---|---|"]
    for record in board.records:
        if not record.tasks:
            continue
        source = f"`{record.source}`" + (f" ({record.note})" if record.note else "")
        lines.append(f"| {record.name} | `{record.model}` | {source} | {record.lm_eval_version or '?'} | "
                     f"{(record.git_sha or '?')[:12]} | {record.date or '?'} |")
    lines += ["", "How each row was made:", ""]
    for record in board.records:
        if record.commands:
            lines += [f"- `{record.name}`:", "", "  ```sh", *[f"  {c}" for c in record.commands], "  ```", ""]
    return lines


def render_markdown(board: Leaderboard, command: str) -> str:
    """README.md: the summary, then one section per task family with one table per task."""
    lines = [f"<!-- {HEADER} -->", "# ppt-bench leaderboard", "", f"_{HEADER}._ Made by:", "",
             "```", command, "```", "", SOURCE_TEXT, "", "## Summary", "", SCORE_TEXT, "",
             *_md_summary(board), CELL_TEXT,
             "Sortable page: `index.html`; every value and interval bound: `leaderboard.csv`.", ""]
    for name in FAMILIES:
        tables = [t for t in board.tables if t.family == name]
        if tables:
            lines += [f"## {name}", ""]
            for table in tables:
                lines += _md_task(table)
    if board.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in board.notes], ""]
    lines += ["## Rows", "", *_record_lines(board)]
    return "\n".join(lines)


# --- CSV ----------------------------------------------------------------------------------------

CSV_FIELDS = ("model", "evaluated_as", "reference", "task", "family", "version", "size", "ranked", "metric",
              "higher_is_better", "value", "low", "high")


def _full(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def render_csv(board: Leaderboard) -> str:
    """leaderboard.csv, long format: `#` comment lines (header), then one row per model x task x
    metric (`ranked`: false for rows listed apart), and the summary scores as task `summary`,
    metric `score:<task>` (read with `pandas.read_csv(path, comment="#")`)."""
    buffer = io.StringIO()
    buffer.write(f"# {HEADER}\n# one row per model x task x metric; low/high: 95% interval\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for table in board.tables:
        groups: list[tuple[Row, bool]] = [*((r, True) for r in table.rows), *((r, True) for r in table.references),
                                          *((r, False) for r in table.apart)]
        for row, ranked in groups:
            for column, cell in zip(table.columns, row.cells, strict=True):
                if cell.value is None:
                    continue
                higher = "" if column.higher_is_better is None else str(column.higher_is_better).lower()
                writer.writerow([row.name, row.model, str(row.reference).lower(), table.task, table.family,
                                 table.version or "", row.size, str(ranked).lower(), column.metric, higher,
                                 _full(cell.value), _full(cell.low), _full(cell.high)])
    for row in board.summary:
        for (task, _), score in zip(board.summary_columns, row.scores, strict=True):
            if score is not None:
                writer.writerow([row.name, "", str(row.reference).lower(), "summary", "", "", "", "true",
                                 f"score:{task}", "true", _full(score), "", ""])
    return buffer.getvalue()


# --- HTML ---------------------------------------------------------------------------------------

_SORT_SCRIPT = """
document.querySelectorAll("th[data-col]").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], col = +th.dataset.col;
    var higher = th.dataset.higher === "true";
    // first click: best first; next clicks flip
    var descending = th.getAttribute("aria-sort") ? th.getAttribute("aria-sort") === "ascending"
                                                  : (th.dataset.col === "0" ? false : higher);
    table.querySelectorAll("th[data-col]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) { var c = row.cells[col]; return c.dataset.v === undefined ? c.textContent : c.dataset.v; }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === "" || y === "") { return (x === "") - (y === ""); }  // missing values last
      var order = col === 0 ? x.localeCompare(y) : (+x) - (+y);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2em auto; max-width: 78em; padding: 0 1em; color: #222; }
p.note { color: #555; font-size: 13px; max-width: 70em; }
table { border-collapse: collapse; font-size: 13px; margin: 0.4em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; }
th[data-col] { cursor: pointer; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody.reference td { background: #f7f7ee; color: #555; }
tbody.reference tr:first-child td { border-top: 2px solid #999; }
tbody.apart td { background: #f4f4f4; color: #777; }
td.best { font-weight: bold; }
.ci { color: #777; font-size: 11px; }
.flag { color: #a60; }
h2 { margin-top: 1.4em; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 1em 0 0.2em; }
.scroll { overflow-x: auto; }
#summary th { white-space: normal; min-width: 4.5em; vertical-align: bottom; }
code { background: #f4f4f4; padding: 1px 3px; }
"""


def _td(cell: Cell, column: Column, best: bool = False) -> str:
    esc = html.escape
    if cell.value is None:
        return '<td class="num" data-v="">—</td>'
    if column.metric == "T":
        flag = ' <span class="flag">⚠</span>' if ";" in cell.note else ""
        return (f'<td class="num" data-v="{cell.value!r}">{cell.value:.3g}{flag} '
                f'<span class="ci">{esc(cell.note)}</span></td>')
    interval = f' <span class="ci">[{_fmt(cell.low)}, {_fmt(cell.high)}]</span>' if cell.low is not None else ""
    return f'<td class="num{" best" if best else ""}" data-v="{cell.value!r}">{_fmt(cell.value)}{interval}</td>'


def _direction(column: Column) -> str:
    if column.higher_is_better is None:
        return "not a score"
    return "higher is better" if column.higher_is_better else "lower is better"


def _html_task(table: TaskTable) -> str:
    esc = html.escape
    head = '<tr><th data-col="0" data-higher="false">model</th>' + "".join(
        f'<th data-col="{i + 1}" data-higher="{str(bool(c.higher_is_better)).lower()}" id="{esc(c.name)}" '
        f'title="{_direction(c)}">{esc(c.metric)}{_arrow(c)}</th>' for i, c in enumerate(table.columns)) + "</tr>"

    def body(rows, kind: str) -> str:
        out = []
        for row in rows:
            label = esc(row.name) + (' <span class="ci">(reference)</span>' if row.reference else "")
            if kind == "apart":
                label += f' <span class="ci">{esc(row.size)}</span>'
            cells = "".join(_td(cell, table.columns[i], kind == "rows" and table.best(i) == cell.value)
                            for i, cell in enumerate(row.cells))
            out.append(f'<tr data-model="{esc(row.name)}"><td data-v="{esc(row.name)}">{label}</td>{cells}</tr>')
        return f'<tbody class="{kind}">' + "".join(out) + "</tbody>"

    parts = [f'<h3 id="task-{esc(table.task)}">{esc(table_title(table))}</h3>', '<div class="scroll">',
             f'<table class="task" id="table-{esc(table.task)}"><thead>{head}</thead>', body(table.rows, "rows"),
             body(table.references, "reference")]
    if table.apart:
        parts.append(f'<tbody class="apart"><tr><td colspan="{len(table.columns) + 1}">listed apart '
                     f"(another size or version, not ranked):</td></tr></tbody>")
        parts.append(body(table.apart, "apart"))
    return "".join(parts) + "</table></div>"


def _html_summary(board: Leaderboard) -> str:
    esc = html.escape
    if not board.summary_columns:
        return "<p>No task has both reference rows at its current size: no summary scores.</p>"
    head = ('<tr><th data-col="0" data-higher="false">model</th><th data-col="1" data-higher="true" '
            'id="summary-mean" title="mean over the tasks with a score">mean</th>'
            '<th data-col="2" data-higher="true" title="tasks with a score">n</th>' + "".join(
                f'<th data-col="{i + 3}" data-higher="true" id="summary-{esc(task)}" title="{esc(metric)}">'
                f'<a href="#task-{esc(task)}">{esc(task).replace("_", "_<wbr>")}</a><br>'
                f'<span class="ci">{esc(metric)}</span></th>'
                for i, (task, metric) in enumerate(board.summary_columns)) + "</tr>")

    def tr(row) -> str:
        label = esc(row.name) + (' <span class="ci">(reference)</span>' if row.reference else "")
        mean = row.mean
        cells = [f'<td data-v="{esc(row.name)}">{label}</td>',
                 f'<td class="num" data-v="{"" if mean is None else repr(mean)}"><b>{_fmt(mean, 2) or "—"}</b></td>',
                 f'<td class="num" data-v="{row.n_tasks}">{row.n_tasks}</td>']
        cells += [f'<td class="num" data-v="{"" if s is None else repr(s)}">{_fmt(s, 2) if s is not None else "—"}</td>'
                  for s in row.scores]
        return f'<tr data-model="{esc(row.name)}">' + "".join(cells) + "</tr>"

    models = "".join(tr(r) for r in board.summary if not r.reference)
    refs = "".join(tr(r) for r in board.summary if r.reference)
    return (f'<div class="scroll"><table id="summary"><thead>{head}</thead><tbody class="rows">{models}</tbody>'
            f'<tbody class="reference">{refs}</tbody></table></div>')


def _inline(text: str) -> str:
    """Escaped text with markdown's `code` spans as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def render_html(board: Leaderboard, command: str) -> str:
    """index.html: summary table, then a section per task family; click a header to sort."""
    esc = html.escape
    sections = []
    for name in FAMILIES:
        tables = [t for t in board.tables if t.family == name]
        if tables:
            sections.append(f"<h2>{esc(name)}</h2>" + "".join(_html_task(t) for t in tables))
    notes = "".join(f"<li>{_inline(note)}</li>" for note in board.notes)
    return "\n".join([
        "<!DOCTYPE html>", f"<!-- {HEADER} -->", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>ppt-bench leaderboard</title>", f"<style>{_STYLE}</style></head><body>",
        "<h1>ppt-bench leaderboard</h1>",
        f'<p class="note">{esc(HEADER)}. Made by <code>{esc(command)}</code>. Click a column header to sort '
        "(first click: best first).</p>",
        "<h2>Summary</h2>", f'<p class="note">{_inline(SCORE_TEXT)}</p>', _html_summary(board),
        f'<p class="note">{_inline(CELL_TEXT)}</p>', *sections,
        f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "",
        f"<script>{_SORT_SCRIPT}</script>", "</body></html>", ""])
