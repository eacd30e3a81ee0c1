"""HTML building blocks shared by the report's sections (the page, mutation, frameworks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape


def pre(text: str, cls: str = "") -> str:
    """Preformatted, escaped text (nothing for an empty string)."""
    return f'<pre class="{cls}">{escape(text)}</pre>' if text else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; cells are markup already (escape before), ``num:`` right-aligns."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c[4:]}</td>' if c.startswith("num:") else f"<td>{c}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
