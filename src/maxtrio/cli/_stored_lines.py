"""JSON lines straight from stored rows: ``search -o ndjson`` without an object per row.

``max search … --all -o ndjson`` is how people and agents take a whole entity type out of a
``data.db``, locally and from remote nodes. Through the general path each row becomes an
``EntityResult`` with a ``Ref`` per ref and a ``datetime`` per date, then a dict, then JSON —
about 20 µs a row. Here a function compiled once per (fields, kinds) writes each line from the
row as SQLite returns it (:class:`maxtrio.storage.StoredPage`), about 3 µs a row. (Writing the
lines in SQL instead was tried: SQLite's expression engine took longer than both steps here.)

The text is exactly what :func:`._printers.dumps_line` makes of the same row's object (tests
compare the two on every kind of value):

* strings through the JSON encoder's own string escaping (non-ASCII kept);
* numbers as ``json_value`` gives them (integral floats as integers, infinities as ``null``);
* booleans ``true`` for 1, ``false`` for any other stored value;
* dates in the stored UTC form (``2026-03-08T14:03:27.512Z``) as ``datetime.isoformat`` writes
  them (``2026-03-08T14:03:27.512000+00:00``; ``…27+00:00`` without milliseconds); any other
  text a date column holds takes the general conversion;
* refs as their key (``ein:AcmeUser:u1``);
* NULL leaves the key out; ``_id`` and ``_ref`` are the meta fields a line may carry.

Fields the page does not have (other meta fields) make :func:`line_encoder` return None, and
the caller takes the general path.
"""

from __future__ import annotations

import json.encoder
import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from maxtrio.core import FieldKind

#: ``JSON.stringify`` of one string with non-ASCII kept (the encoder ``dumps_line`` uses).
_string: Callable[[str], str] = json.encoder.encode_basestring
#: The stored form of a date (what the engine writes).
_STORED_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{3})Z").fullmatch

LineEncoder = Callable[[Sequence[tuple[Any, ...]]], list[str]]
#: The meta fields a line may carry (the others are stored fields).
LINE_META_FIELDS = ("_id", "_ref")


def writes_fields(selected: Sequence[str] | None) -> bool:
    """Whether lines of the ``selected`` fields (None: the default ones) can be written from
    stored rows: every meta field among them is one a line carries."""
    return selected is None or all(
        not name.startswith("_") or name in LINE_META_FIELDS for name in selected
    )


def line_encoder(
    entity_type: str,
    wanted: Sequence[str],
    fields: Sequence[str],
    kinds: Sequence[tuple[FieldKind, str | None]],
) -> LineEncoder | None:
    """A function turning rows of ``fields`` (``_id`` first) of ``entity_type`` into JSON lines
    of the ``wanted`` fields in that order; None when a wanted field is neither a row field nor
    ``_ref``.

    Two versions are compiled: one that takes every text column to hold text (what the engine
    writes) and one that checks; a page the first cannot write (a TypeError: a number or a
    BLOB where text belongs, in a file written by something else) is written by the second."""
    if not fields or fields[0] != "_id":
        return None
    position = {name: i for i, name in enumerate(fields)}
    kind_of = dict(zip(fields, kinds, strict=True))
    if any(name != "_ref" and name not in position for name in wanted):
        return None
    for name in wanted:
        kind, target = kind_of.get(name, (FieldKind.STRING, None))
        if kind not in _KINDS or (kind is FieldKind.REF and target is None):
            return None
    env: dict[str, Any] = {
        "_string": _string,
        "_number": _number,
        "_date": _date,
        "_general": _general,
        "_ref_prefix": f"ein:{entity_type}:",
    }
    sources = []
    for checked in (False, True):
        body: list[str] = []
        for n, name in enumerate(wanted):
            key = _string(name) + ":"
            if name == "_ref":
                ref_id = "(r[0] if r[0].__class__ is str else str(r[0]))" if checked else "r[0]"
                body.append(f"p.append({key!r} + _string(_ref_prefix + {ref_id}))")
                continue
            kind, target = kind_of[name]
            v = f"v{n}"
            if kind is FieldKind.STRING:
                text = f"(_string({v}) if {v}.__class__ is str else _general({v}))"
                text = text if checked else f"_string({v})"
            elif kind is FieldKind.NUMBER:
                text = f"_number({v})"
            elif kind is FieldKind.BOOLEAN:
                text = f"('true' if {v}.__class__ is int and {v} == 1 else 'false')"
            elif kind is FieldKind.DATE:
                text = f"_date({v})"
            else:  # a ref: few distinct targets, each line written once (_RefTexts)
                env[f"_refs{n}"] = refs = env.get(f"_refs{n}") or _RefTexts(f"ein:{target}:")
                body += [
                    f"{v} = r[{position[name]}]",
                    f"if {v} is not None:",
                    f"    t = _refs{n}.get({v})",
                    f"    p.append({key!r} + (_refs{n}.add({v}) if t is None else t))",
                ]
                del refs
                continue
            body += [
                f"{v} = r[{position[name]}]",
                f"if {v} is not None:",
                f"    p.append({key!r} + {text})",
            ]
        name = "checked" if checked else "fast"
        sources += [
            f"def {name}(rows):",
            "    out = []",
            "    for r in rows:",
            "        p = []",
            *[f"        {line}" for line in body],
            "        out.append('{' + ','.join(p) + '}')",
            "    return out",
        ]
    sources += [
        "def encode(rows):",
        "    try:",
        "        return fast(rows)",
        "    except TypeError:",
        "        return checked(rows)",
    ]
    exec(compile("\n".join(sources), "<ndjson line encoder>", "exec"), env)
    return env["encode"]  # type: ignore[no-any-return]


class _RefTexts(dict[Any, str]):
    """The JSON text of refs to one type by id, kept while few (cleared when full)."""

    KEPT = 1 << 14

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def add(self, ref_id: Any) -> str:
        if len(self) >= self.KEPT:
            self.clear()
        key = self.prefix + (ref_id if ref_id.__class__ is str else str(ref_id))
        text = self[ref_id] = _string(key)
        return text


_KINDS = frozenset(
    {FieldKind.STRING, FieldKind.NUMBER, FieldKind.BOOLEAN, FieldKind.DATE, FieldKind.REF}
)


def _number(value: Any) -> str:
    if value.__class__ is float:
        if math.isinf(value) or math.isnan(value):
            return "null"
        if value.is_integer() and abs(value) < 1e21:
            return int.__repr__(int(value))
        return float.__repr__(value)
    if value.__class__ is int:
        return int.__repr__(value)
    return _general(value)


#: Dates already written (rows share many: a whole import, a bulk edit); cleared when full.
_DATES: dict[Any, str] = {}
_DATES_KEPT = 1 << 13  # ≈ 1.5 MB at most, in a daemon that lives on


def _date(value: Any) -> str:
    text = _DATES.get(value)
    if text is None:
        if len(_DATES) >= _DATES_KEPT:
            _DATES.clear()
        text = _DATES[value] = _date_text(value)
    return text


def _date_text(value: Any) -> str:
    # The stored form 2026-03-08T14:03:27.512Z is what isoformat writes of its datetime,
    # 2026-03-08T14:03:27.512000+00:00 — once it is a real date.
    found = _STORED_DATE(value) if value.__class__ is str else None
    if found is not None:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return _general(_read_date(value))
        text: str = value
        if found[1] == "000":
            return '"' + text[:19] + '+00:00"'
        return '"' + text[:23] + '000+00:00"'
    return _general(_read_date(value))


def _read_date(value: Any) -> Any:
    """What the engine reads from a date column: an aware datetime, else the value itself."""
    from maxtrio.storage import parse_date

    if value.__class__ is not str:
        return value
    try:
        return parse_date(value)
    except ValueError:
        return value


def _general(value: Any) -> str:
    from ._printers import dumps_line

    return dumps_line(value)
