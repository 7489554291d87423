"""New customers from CSV fields straight to ``COPY`` text, without building the row as a dict.

A :class:`NewRows` is made once per file header from the :class:`CustomerPlan` of that header.
It holds the stored row of a new customer as a byte template: the JSON of the empty customer
(the plan's template) with a ``%s`` slot for every attribute the file feeds. A record then costs
a few calls into C: the fields are stripped with one ``map``, the text fields (and the extra
attributes) are JSON-escaped with one ``orjson.dumps`` of them all (in JSON text a ``","`` only
ever separates two strings, so splitting on it gives each field's escaped text back), the typed
fields (enums, yes/no, dates, lists) are looked up in memos of their JSON text, and one ``%``
fills the template. The bytes are the ones ``orjson.dumps`` gives for the row the plan builds
(same keys in the same order, same escaping), which the tests compare.

Anything out of the ordinary makes :meth:`NewRows.encode` return None and the record takes the
plan's own path, which rejects it or writes it as before: a required field that is empty, a
value longer than its table column, a typed value that does not check, a table column whose
text needs escaping in ``COPY`` (a backslash, a quote, a control character).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from agentdesk.domain import CustomerAttributes
from agentdesk_sync.importers.customers import _ATTRS, _COLUMNS, _REQUIRED, _VIEW, CustomerPlan
from agentdesk_sync.importers.fields import FieldError, field_specs

__all__ = ["NewRows", "new_rows"]

_MEMO_LIMIT = 100_000
_NULL = b"\x00"  # a NULL table column until the line is checked (JSON text has no raw NUL)
Pick = Callable[[Sequence[Any]], tuple[Any, ...]]


def _picker(indexes: list[int]) -> Pick:
    """``itemgetter`` that always returns a tuple (also for one index or none)."""
    if not indexes:
        return lambda _seq: ()
    if len(indexes) == 1:
        index = indexes[0]
        return lambda seq: (seq[index],)
    return operator.itemgetter(*indexes)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _template_text(text: bytes) -> bytes:
    return text.replace(b"%", b"%%")


class NewRows:
    """How to write new customers from the fields of one CSV header (see the module doc)."""

    def __init__(self, plan: CustomerPlan, header: list[str], limits: Sequence[tuple[str, int]]
                 ) -> None:  # fmt: skip
        """Build the template; :func:`new_rows` says when a plan and header qualify."""
        index = {name: i for i, name in enumerate(header)}  # the last one wins, as in the dict
        texts = {name: index[source] for source, name in plan.text_columns}
        typed = {name: (index[source], check) for source, name, check, _memo in plan.columns}
        self.width = len(header)
        # the JSON-escaped values: the text fields (stripped) then the extra attributes (raw)
        text_names = [n for n in _ATTRS if n in texts]
        self.text_pick = _picker([texts[n] for n in text_names])
        self.extra_pick = _picker([index[k] for k in plan.extra])
        self.extra_keys = [_json(k) for k in plan.extra]
        self.extra_template = b"{%s}" % b",".join(
            [_template_text(k) + b':"%s"' for k in self.extra_keys]
        )
        self.extra_count = len(plan.extra)
        self.text_count = len(text_names)
        position = {n: i for i, n in enumerate(text_names)}
        typed_names = [n for n in _ATTRS if n in typed]
        self.typed_pick = _picker([typed[n][0] for n in typed_names])
        self.checks = [typed[n][1] for n in typed_names]
        self.memos: list[dict[str, bytes]] = [{"": _json(_ATTRS[n])} for n in typed_names]
        # text fields whose empty value is not "" (None or another default): a fragment each
        self.defaults = [(position[n], _json(_ATTRS[n])) for n in text_names if _ATTRS[n] != ""]
        # the pool a record's template slots are taken from: the escaped texts, the fragments
        # of the text fields with defaults, the typed fragments, the extra attributes
        slots: list[int] = []
        pieces = [b'{"attributes":{']
        after_defaults = self.text_count + len(self.defaults)
        default_slot = {
            text_names[p]: self.text_count + k for k, (p, _d) in enumerate(self.defaults)
        }
        for k, name in enumerate(_ATTRS):
            pieces.append(_template_text(_json(name)) + b":")
            if name == "extra" and self.extra_count:
                slots.append(after_defaults + len(typed_names))
                pieces.append(b"%s")
            elif name in default_slot:
                slots.append(default_slot[name])
                pieces.append(b"%s")
            elif name in texts:
                slots.append(position[name])
                pieces.append(b'"%s"')
            elif name in typed:
                slots.append(after_defaults + typed_names.index(name))
                pieces.append(b"%s")
            else:
                pieces.append(_template_text(_json(_ATTRS[name])))
            pieces.append(b"," if k < len(_ATTRS) - 1 else b"}")
        tail = _json({k: v for k, v in _VIEW.items() if k != "attributes"})
        pieces.append(b"," + _template_text(tail[1:]) if len(tail) > 2 else b"}")
        self.template = b"".join(pieces)
        self.slot_pick = _picker(slots)
        # the table columns of the COPY line: customer_id then _COLUMNS
        self.key_index = texts["customer_id"]
        self.table_sources: list[tuple[str, int, bytes | None]] = []
        for name in ("customer_id", *_COLUMNS):
            default = _ATTRS[name]
            if name in texts:
                self.table_sources.append(("text", position[name], _plain(default)))
            elif name in typed:
                self.table_sources.append(("typed", typed_names.index(name), None))
            else:
                self.table_sources.append(("const", 0, _plain(default)))
        self.region_column = 1 + _COLUMNS.index("region_code")
        self.required_pick = _picker([texts[n] for n in _REQUIRED])
        checked = [(texts[n], limit) for n, limit in limits if n in texts]
        self.limit_pick = _picker([i for i, _l in checked])
        self.limits = [limit for _i, limit in checked]

    def _fragments(self, texts: tuple[str, ...]) -> list[bytes] | None:
        """The typed fields' JSON fragments, checking (and remembering) new values."""
        out = []
        for memo, check, text in zip(self.memos, self.checks, texts, strict=True):
            fragment = memo.get(text)
            if fragment is None:
                try:
                    fragment = _json(check(text))
                except FieldError:
                    return None
                if len(memo) < _MEMO_LIMIT:
                    memo[text] = fragment
            out.append(fragment)
        return out

    def encode(
        self, fields: list[str], stamp: bytes
    ) -> tuple[str, bytes, bytes, bytes, bytes] | None:
        """A new customer's key, its ``COPY`` line (without its final number), its key and
        region as ``COPY`` text (for its change-log line) and its row JSON; None when the
        record must take the plan's own path."""
        stripped = list(map(str.strip, fields))
        if "" in self.required_pick(stripped):
            return None
        if any(map(operator.gt, map(len, self.limit_pick(stripped)), self.limits)):
            return None
        texts = self.typed_pick(stripped)
        try:
            fragments = list(map(operator.getitem, self.memos, texts))
        except KeyError:
            found = self._fragments(texts)
            if found is None:
                return None
            fragments = found
        try:
            blob = orjson.dumps(self.text_pick(stripped) + self.extra_pick(fields))
        except orjson.JSONEncodeError:
            return None
        escaped = blob[2:-2].split(b'","')
        values = escaped[: self.text_count]
        for position, default in self.defaults:
            text = values[position]
            values.append(b'"%s"' % text if text else default)
        values += fragments
        if self.extra_count:
            extras = escaped[self.text_count :]
            values.append(
                self.extra_template % tuple(extras) if b"" not in extras else self._extra(extras)
            )
        row = self.template % self.slot_pick(values)
        table = []
        for kind, at, plain in self.table_sources:
            if kind == "text":
                text = escaped[at]
                if not text and plain != b"":
                    text = _NULL if plain is None else plain
                table.append(text)
            elif kind == "typed":
                fragment = fragments[at]
                table.append(_NULL if fragment == b"null" else fragment[1:-1])
            else:
                table.append(_NULL if plain is None else plain)
        columns = b"\t".join(table)
        if b"\\" in columns:
            return None
        region = table[self.region_column]
        if _NULL in columns:
            columns = columns.replace(_NULL, b"\\N")
            region = b"\\N" if region == _NULL else region
        line = b"%s\t%s\t%s\t" % (columns, stamp, row.replace(b"\\", b"\\\\"))
        return stripped[self.key_index], line, table[0], region, row

    def _extra(self, escaped: list[bytes]) -> bytes:
        """The ``extra`` object: the non-empty extra attributes in header order."""
        return b"{%s}" % b",".join(
            [b'%s:"%s"' % (k, v) for k, v in zip(self.extra_keys, escaped, strict=True) if v]
        )


def _plain(value: Any) -> bytes | None:
    """A template value as ``COPY`` text of a table column (None for NULL)."""
    return None if value is None else str(value).encode()


def new_rows(plan: CustomerPlan, header: list[str], limits: Sequence[tuple[str, int]]
             ) -> NewRows | None:  # fmt: skip
    """The :class:`NewRows` of a header, or None when its records need the plan's own path:
    a plan that is not fast, mapping defaults, a field fed by something other than a column
    of the header (``line``), a required field the file lacks, or a table column whose
    possible values could exceed the column."""
    if not plan.fast or plan.defaulted or next(iter(_VIEW)) != "attributes":
        return None
    sources = {source for source, _n in plan.text_columns}
    sources |= {source for source, _n, _c, _m in plan.columns}
    if not sources <= set(header):
        return None
    if any(n not in {name for _s, name in plan.text_columns} for n in _REQUIRED):
        return None
    typed = {name for _s, name, _c, _m in plan.columns}
    given = typed | {name for _s, name in plan.text_columns}
    specs = field_specs(CustomerAttributes)
    for name, limit in limits:
        if name in typed:
            spec = specs[name]
            if spec.kind != "enum" or any(len(c) > limit for c in spec.choices):
                return None
        elif name not in given and len(str(_ATTRS[name] or "")) > limit:
            return None
    return NewRows(plan, header, limits)
