"""Output formats, the same five for every command: ``text``, ``json``, ``ndjson``, ``csv``,
``table``.

A command builds a :class:`Report` — its own ``text`` rendering, a JSON ``document`` and, for
tabular output, ``records`` (column names and one mapping per row) — and :func:`render` turns it
into the chunks of the format the user chose:

==========  ==================================================================================
``text``    the command's human layout (coloured only on a terminal, see ``_output``)
``json``    the document, 2-space indented (``JSON.stringify(v, null, 2)`` layout)
``ndjson``  one compact JSON line per record for lists (``ndjson_records = True``: ``ls``,
            ``status``), else the document on one line
``csv``     a header row, then one row per record (RFC 4180 quoting, ``\\n`` line ends)
``table``   a boxed table of the records (rich), sized to its content
==========  ==================================================================================

Values are shown the way the reference shows them: refs as their RefKey (``ein:AcmeUser:u1``),
dates as ISO-8601, booleans ``true``/``false``, numbers as JavaScript prints them (integral
floats without ``.0``: ``5.0`` → ``5``); a missing or NULL value is an empty cell and is left
out of JSON objects.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ._output import Style

FORMATS: tuple[str, ...] = ("text", "json", "ndjson", "csv", "table")
DOCUMENT_FORMATS: tuple[str, ...] = ("text", "json", "ndjson")


# -- values ---------------------------------------------------------------------------------------


def js_number_text(value: float | int) -> str:
    """``String(value)`` in JavaScript: ``5.0`` → ``5``, ``1e-7``, ``1e21`` → ``1e+21``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) < 10**21:
            return str(value)
        value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # The shortest round-tripping digits (Python's repr) in JavaScript's layout (ECMA-262
    # Number::toString): value = 0.<digits> × 10^point. (decimal is imported here, by the
    # first fraction shown: most commands show none.)
    from decimal import Decimal

    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    assert isinstance(parts.exponent, int)
    k = len(digits)
    point = parts.exponent + k
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = "0." + "0" * (-point) + digits
    else:
        exponent = point - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + text


def cell_text(value: Any) -> str:
    """A value as one text, CSV or table cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return js_number_text(value)
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    to_key = getattr(value, "to_key", None)
    if callable(to_key):
        return str(to_key())
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def json_value(value: Any) -> Any:
    """A value ready for ``json.dumps`` with JavaScript's number and ref conventions.

    Which conversion a value needs follows from its type alone, so it is looked up once per
    type (:data:`_CONVERTERS`) — ``search --all -o ndjson`` converts every value of every
    row, and a chain of ``isinstance`` tests per value was most of its time."""
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter_for(value)
    return convert(value)


def _as_is(value: Any) -> Any:
    return value


def _float_value(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return None  # JSON.stringify(NaN) is null
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _mapping_value(value: Mapping[Any, Any]) -> dict[str, Any]:
    converters = _CONVERTERS
    out: dict[str, Any] = {}
    for k, v in value.items():
        if v is not None:
            convert = converters.get(type(v))
            out[str(k)] = convert(v) if convert is not None else json_value(v)
    return out


def _sequence_value(value: Sequence[Any]) -> list[Any]:
    return [json_value(v) for v in value]


def _isoformat(value: _dt.date) -> str:
    return value.isoformat()


def _key_text(value: Any) -> str:
    return str(value.to_key())


def _converter_for(value: Any) -> Callable[[Any], Any]:
    if value is None or isinstance(value, str | bool | int):
        return _as_is
    if isinstance(value, float):
        return _float_value
    if isinstance(value, _dt.datetime | _dt.date):
        return _isoformat
    if isinstance(value, Mapping):
        return _mapping_value
    if isinstance(value, list | tuple):
        return _sequence_value
    if callable(getattr(value, "to_key", None)):
        return _key_text
    return str


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    str: _as_is,
    int: _as_is,
    bool: _as_is,
    type(None): _as_is,
    float: _float_value,
    dict: _mapping_value,
    list: _sequence_value,
}


def dumps_pretty(document: Any) -> str:
    """``JSON.stringify(document, null, 2)``: 2-space indent, non-ASCII kept."""
    return json.dumps(json_value(document), indent=2, ensure_ascii=False)


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps_line(document: Any) -> str:
    """``JSON.stringify(document)``: compact, one line, non-ASCII kept."""
    return _LINE_ENCODER.encode(json_value(document))


# -- reports ---------------------------------------------------------------------------------------


class Report(Protocol):
    """What a command hands to :func:`render`."""

    def text(self, style: Style) -> str:
        """The human layout (may be several lines, no trailing newline)."""
        ...

    def document(self) -> Any:
        """The ``-o json`` value."""
        ...

    def records(self) -> tuple[Sequence[str], Sequence[Mapping[str, Any]]] | None:
        """Columns and rows for ``csv``/``table`` (and ``ndjson`` when the report sets
        ``ndjson_records``); ``None``: the document's scalar values make the one row."""
        ...


def render(report: Report, output: str, style: Style) -> Iterator[str]:
    """The chunks (each written followed by one newline) of ``report`` in format ``output``."""
    if output == "text":
        yield report.text(style)
        return
    if output == "json":
        yield dumps_pretty(report.document())
        return
    table = report.records()
    if output == "ndjson":
        if table is not None and getattr(report, "ndjson_records", False):
            yield "\n".join(ndjson_lines(table[1]))
        else:
            yield dumps_line(report.document())
        return
    columns, rows = table if table is not None else _document_as_record(report.document())
    if output == "csv":
        yield csv_text(columns, rows, header=True)
    elif output == "table":
        yield box_table(columns, rows, style)
    else:
        raise ValueError(f"unknown output format {output!r}")


def _document_as_record(document: Any) -> tuple[list[str], list[Mapping[str, Any]]]:
    if isinstance(document, Mapping):
        flat = {k: v for k, v in document.items() if not isinstance(v, Mapping | list)}
        return list(flat), [flat]
    return ["value"], [{"value": document}]


def ndjson_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield dumps_line(row)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, header: bool) -> str:
    """CSV rows (with the header row first when ``header``), without the final newline."""
    import csv  # only for csv output

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([cell_text(row.get(c)) for c in columns])
    return buffer.getvalue().removesuffix("\n")


def box_table(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    style: Style,
    *,
    show_header: bool = True,
) -> str:
    """A boxed table (rich), as wide as its content; colour only when ``style`` is on."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SQUARE, show_header=show_header, header_style="bold", highlight=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell_text(row.get(c))) for c in columns))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100_000,
        force_terminal=style.enabled,
        no_color=not style.enabled,
        color_system="standard" if style.enabled else None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(table, crop=False, soft_wrap=True)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join(lines)


def aligned_rows(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style) -> list[str]:
    """The reference's plain tables: two leading spaces, columns two spaces apart, every cell
    (the last one too) padded to its column's longest (ANSI codes not counted), header dimmed."""
    from ._output import pad, visible_len

    widths = [
        max([visible_len(h), *(visible_len(r[i]) for r in rows)]) for i, h in enumerate(headers)
    ]
    header = "  " + "  ".join(style.dim(pad(h, w)) for h, w in zip(headers, widths, strict=True))
    lines = [header]
    for row in rows:
        lines.append("  " + "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)))
    return lines
