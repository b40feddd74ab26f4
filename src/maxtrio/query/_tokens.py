"""The lexical pieces of the filter language shared by the parser and the formatter."""

from __future__ import annotations

import re

#: A field name: ``[A-Za-z_][A-Za-z0-9_.-]*`` (ASCII only; checked against the schema later).
FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
#: An unquoted value: letters, digits and ``_ . : @ -`` (ids, RefKeys, e-mails, dates, numbers).
BARE_VALUE = re.compile(r"[A-Za-z0-9_.:@\-]+")
#: The logical keywords, in exactly these spellings.
KEYWORD = re.compile(r"AND|and|OR|or")
