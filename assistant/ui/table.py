"""The evidence table as server-rendered, escaped HTML, with the small script that sorts it by a header click
and opens an event by a row click, and its style.

It replaces Gradio's Dataframe, whose reactive table has been seen to loop forever (a frozen page) while it was
updated during a streamed answer: a plain table is new HTML per update and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from assistant.models import EventHit
from assistant.ui.render import Datatype, table_columns, table_rows

_WRAPPED = frozenset({"entity", "title", "shares with target"})  # long text wraps; the rest stays on one line
HINT = "click a column to sort by it, a row to open its event"

# Run once by gr.HTML when the table is first shown (`element` is its root, which later updates patch inside,
# so these listeners last). Sorting moves the rows in place; a row asks the server for its event.
TABLE_JS = """
const sortBy = (th) => {
  const body = th.closest('table').tBodies[0];
  const column = th.cellIndex, numeric = th.dataset.type === 'number';
  const up = th.getAttribute('aria-sort') !== 'ascending';
  th.parentElement.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
  const key = (tr) => numeric ? parseFloat(tr.cells[column].dataset.sort) : tr.cells[column].textContent;
  const order = (a, b) => {
    const x = key(a), y = key(b);
    const blank = (v) => numeric ? Number.isNaN(v) : v === '';
    if (blank(x) || blank(y)) return blank(x) - blank(y);  // blanks last, either way
    const sign = up ? 1 : -1;
    return sign * (numeric ? x - y : x.localeCompare(y, undefined, {numeric: true}));
  };
  body.append(...[...body.rows].sort(order));
};
const act = (event) => {
  const th = event.target.closest('thead th');
  if (th) return sortBy(th);
  const tr = event.target.closest('tbody tr[data-id]');
  // A drag that selects text (to copy it) is not a click on the row.
  if (tr && !String(window.getSelection() || '')) trigger('select', {event_id: tr.dataset.id});
};
element.addEventListener('click', act);
element.addEventListener('keydown', (event) => { if (event.key === 'Enter') act(event); });
"""

# Every box property is set: Gradio's own styles for tables elsewhere on the page (padding on table) leak in.
TABLE_CSS = """
#evidence .html-container { padding: 0; }
#evidence .evidence-label { margin: 0 0 6px; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#evidence .evidence-label strong { color: var(--body-text-color); }
#evidence .evidence-scroll { max-height: 1400px; overflow: auto; border: 1px solid var(--table-border-color);
  border-radius: var(--table-radius); }
#evidence table { width: 100%; margin: 0; padding: 0; border: 0; border-collapse: separate; border-spacing: 0;
  font-size: var(--text-sm); color: var(--table-text-color); }
#evidence th, #evidence td { margin: 0; padding: 6px 10px; text-align: left; vertical-align: top; white-space: nowrap;
  border-bottom: 1px solid var(--table-border-color); }
#evidence th { position: sticky; top: 0; z-index: 1; background: var(--background-fill-secondary); font-weight: 600;
  cursor: pointer; user-select: none; }
#evidence th[aria-sort="ascending"]::after { content: " ▲"; font-size: 0.7em; }
#evidence th[aria-sort="descending"]::after { content: " ▼"; font-size: 0.7em; }
#evidence .num { text-align: right; font-variant-numeric: tabular-nums; }
#evidence .mark { text-align: center; }
#evidence td.mark { color: var(--color-accent); font-weight: 700; }
#evidence td.wrap { white-space: normal; min-width: 14em; }
#evidence tbody tr { cursor: pointer; background: var(--table-odd-background-fill); }
#evidence tbody tr:nth-child(even) { background: var(--table-even-background-fill); }
#evidence tbody tr:hover, #evidence tbody tr:focus { background: var(--table-row-focus); outline: none; }
#evidence tbody tr:last-child td { border-bottom: none; }
"""


def evidence_html(hits: Sequence[EventHit], cited: set[int], label: str) -> str:
    """The evidence table: a caption line, a header of sortable columns and one row per event; all text
    escaped (event text is untrusted: none of it may become markup or a link)."""
    columns = table_columns(hits)
    head = "".join(_header(name, kind) for name, kind in columns)
    body = "".join(_row(row, columns, hit.id in cited) for hit, row in zip(hits, table_rows(hits, cited), strict=True))
    return (f'<p class="evidence-label"><strong>{escape(label)}</strong> · {HINT}</p>'
            f'<div class="evidence-scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _header(name: str, kind: Datatype) -> str:
    return f'<th scope="col" tabindex="0" data-type="{kind}"{_class(name, kind)}>{escape(name)}</th>'


def _row(row: list[Any], columns: list[tuple[str, Datatype]], cited: bool) -> str:
    cells = "".join(_cell(name, kind, value) for (name, kind), value in zip(columns, row, strict=True))
    marked = ' class="cited"' if cited else ""
    return f'<tr data-id="{int(row[0])}" tabindex="0"{marked}>{cells}</tr>'


def _cell(name: str, kind: Datatype, value: Any) -> str:
    if kind == "number":
        number = "" if value is None else str(value)
        return f'<td class="num" data-sort="{escape(number)}">{escape(_number_text(name, value))}</td>'
    return f"<td{_class(name, kind)}>{escape('' if value is None else str(value))}</td>"


def _class(name: str, kind: Datatype) -> str:
    if kind == "number":
        return ' class="num"'
    if name == "cited":
        return ' class="mark"'
    return ' class="wrap"' if name in _WRAPPED else ""


def _number_text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "amount":
        return f"{float(value):,.2f}"
    return str(value)
