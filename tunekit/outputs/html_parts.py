"""The pieces of HTML the report pages are made of: escaped text and tables."""

import html


def escaped(value) -> str:
    return html.escape(str(value))


def table(header: list, rows: list) -> str:
    """A table: the header escaped, the cells as given (they may hold markup)."""
    head = "".join(f"<th>{escaped(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
