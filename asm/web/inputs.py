"""What every request's input goes through before a view sees it, so that bad input is a 4xx and never a 5xx.

- `<int:...>` in every URL rule of every blueprint takes ASCII digits up to 2^31-1 (the range of the integer ids
  in the database): `/luu-tru/2147483648` or `/stays/99999999999999999999` is simply no such page, 404, instead
  of an overflow in the database driver.
- `request.args.get(name, type=int)` and `request.form.get(...)` give their default for a number outside the
  same range, as they already do for one that is not a number.
- JSON bodies (`request.get_json()` anywhere, and the API's own reading) are parsed by pydantic-core's parser,
  which refuses nesting deeper than 200 levels and lone UTF-16 surrogates (which no database can store) as
  invalid JSON: 400, where Python's `json` raised RecursionError (500) or let the surrogate through.
- Body size: `MAX_CONTENT_LENGTH` (10 MB) answers 413 before a body is read.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from pydantic_core import from_json
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Map

INT_MAX = 2**31 - 1  # PostgreSQL `integer`: every id column
INT_MIN = -(2**31)
_MISSING = object()


class IdConverter(IntegerConverter):
    """`<int:...>`: ASCII digits, 0 to 2^31-1 unless the rule says otherwise (`<int(max=...):...>`)."""

    regex = r"[0-9]+"  # `\d` would take other scripts' digits too

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, INT_MAX if max is None else max, signed)
        if signed:
            self.regex = r"-?[0-9]+"


class Parameters(ImmutableMultiDict[str, str]):
    """Query and form values. `get(name, type=int)` keeps to the range of the database's integers."""

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]  # one untyped signature for werkzeug's overloads
        value: Any = super().get(key, _MISSING, type)
        if value is _MISSING:
            return default
        if type is int and not INT_MIN <= value <= INT_MAX:
            return default
        return value


class Request(FlaskRequest):
    parameter_storage_class = Parameters


def read_json(data: str | bytes) -> Any:
    """JSON text to Python values. ValueError for invalid JSON, nesting deeper than 200 or a lone surrogate."""
    return from_json(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with `loads` that cannot recurse out of the stack (see `read_json`)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:  # the session serializer passes its object_hook: the standard library does that
            return super().loads(s, **kwargs)
        return read_json(s)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the converter is looked up when a rule is added."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = Request
    app.json = JSONProvider(app)
