"""The API's contract in one place: typed bodies (pydantic v2), their errors in our shape, and the operations.

A body is declared once as a pydantic model (`asm/api/schemas.py`, `asm/hospital/schemas.py`). The same model
validates the request (`read_body`), gives the field-level 422 (`error.fields` / `error.codes`, the stable codes
of `CODES` and of the rules, Vietnamese and English messages), and is the JSON Schema of the OpenAPI document
(`asm/api/openapi.py`), which also takes every operation's summary, answers and error codes from the
`@operation(...)` declared on its view. Models are strict: a string is a JSON string, a boolean `true`/`false`.

Reading a JSON body: no body where one is required is 400; a body that is not `application/json` is 415; JSON
that does not parse (or nests deeper than 200, see `asm.web.inputs`) or is not an object is 400; a body over
`MAX_CONTENT_LENGTH` is 413 before it is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from flask import abort, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, PlainValidator, WithJsonSchema
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from asm.clock import MAX_YEAR, MIN_YEAR, VN_TZ, in_supported_range
from asm.common import ValidationError
from asm.web.inputs import read_json

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


class ApiModel(BaseModel):
    """A request body or query: strict types, unknown keys ignored (as before the contract was typed)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Answer(BaseModel):
    """An answer's JSON: exactly these keys (the document says so, and the fuzz test holds us to it)."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------------------
# Dates and times as the API reads them
# --------------------------------------------------------------------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?"
)
RANGE = {"min": MIN_YEAR, "max": MAX_YEAR}


def read_date(value: Any, *, required: bool = False) -> date | None:
    """`YYYY-MM-DD` within the supported years. Null, absent or empty: none (or `required` when it must be)."""
    if value is None or value == "":
        if required:
            raise PydanticCustomError("required", "required")
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("type_invalid", "string expected", {"expected": "string"})
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_invalid", "ISO 8601 date expected, e.g. 2026-11-25") from None
    if not in_supported_range(parsed):
        raise PydanticCustomError("date_out_of_range", "years {min}-{max}", RANGE)
    return parsed


def read_datetime(value: Any, *, required: bool = False) -> datetime | None:
    """ISO 8601 / RFC 3339; without an offset it is Vietnam time. Within the supported years, in UTC and local."""
    if value is None or value == "":
        if required:
            raise PydanticCustomError("required", "required")
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("type_invalid", "string expected", {"expected": "string"})
    try:
        if not _DATETIME.fullmatch(value):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise PydanticCustomError(
            "datetime_invalid", "ISO 8601 date-time expected, e.g. 2026-11-23T21:05:00+07:00"
        ) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)
    if not in_supported_range(parsed):
        raise PydanticCustomError("datetime_out_of_range", "years {min}-{max}", RANGE)
    return parsed


_DATE_DOC = {"type": "string", "format": "date", "description": "ISO 8601, e.g. 2026-11-25"}
_DATETIME_DOC = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601, e.g. 2026-11-23T21:05:00+07:00; without an offset it is Vietnam time (UTC+7)",
}
_EMPTY_DOC = {"type": "string", "maxLength": 0}
_NULL_DOC = {"type": "null"}

Date = Annotated[date, PlainValidator(lambda v: read_date(v, required=True)), WithJsonSchema(_DATE_DOC)]
OptionalDate = Annotated[
    date | None,
    PlainValidator(read_date),
    WithJsonSchema({"anyOf": [_DATE_DOC, _EMPTY_DOC, _NULL_DOC], "description": "empty or null: none"}),
]
DateTime = Annotated[datetime, PlainValidator(lambda v: read_datetime(v, required=True)), WithJsonSchema(_DATETIME_DOC)]
OptionalDateTime = Annotated[
    datetime | None,
    PlainValidator(read_datetime),
    WithJsonSchema({"anyOf": [_DATETIME_DOC, _EMPTY_DOC, _NULL_DOC]}),
]


# --------------------------------------------------------------------------------------------------------
# pydantic's errors in our shape
# --------------------------------------------------------------------------------------------------------

# Stable codes of the contract itself (the rules add their own: docs in each operation's 422).
CODES: dict[str, Any] = {
    "required": _l("Thiếu trường bắt buộc."),
    "type_invalid": _l("Sai kiểu dữ liệu: cần %(expected)s."),
    "too_long": _l("Quá dài: tối đa %(max)s ký tự."),
    "too_many": _l("Quá nhiều: tối đa %(max)s mục."),
    "too_few": _l("Cần ít nhất %(min)s mục."),
    "value_invalid": _l("Giá trị không hợp lệ: cần một trong %(expected)s."),
    "date_invalid": _l("Ngày không hợp lệ: cần dạng ISO 8601, ví dụ 2026-11-25."),
    "datetime_invalid": _l("Thời điểm không hợp lệ: cần dạng ISO 8601, ví dụ 2026-11-23T21:05:00+07:00."),
    "date_out_of_range": _l("Ngày phải nằm trong các năm %(min)s–%(max)s."),
    "datetime_out_of_range": _l("Thời điểm phải nằm trong các năm %(min)s–%(max)s."),
    "doc_type_invalid": _l("Loại giấy tờ không hợp lệ."),  # the rule's own words (asm.people.services)
    "sex_invalid": _l("Giới tính phải là Nam hoặc Nữ."),
}

# pydantic's error types -> ours, and the JSON type a type error wanted
_TYPE_ERRORS = {
    "string_type": "string",
    "bool_type": "boolean",
    "int_type": "integer",
    "int_parsing": "integer",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}
_PYDANTIC_CODES = {
    "missing": "required",
    "string_too_long": "too_long",
    "too_long": "too_many",
    "too_short": "too_few",
    "string_too_short": "required",  # an empty (or blank, once stripped) required string
    "literal_error": "value_invalid",
    "enum": "value_invalid",
    "greater_than_equal": "value_invalid",
    "less_than_equal": "value_invalid",
}


# A person's fields keep the codes of their rules (asm/text.py) wherever a model holds them: a name too long is
# `name_too_long` whether the schema's bound or the rule says so.
RULE_CODES: dict[str, tuple[str, Any]] = {
    "full_name:too_long": ("name_too_long", _l("Họ và tên tối đa %(max)s ký tự.")),
    "address:too_long": ("address_too_long", _l("Nơi thường trú tối đa %(max)s ký tự.")),
}


def field_errors(
    exc: PydanticError, overrides: Mapping[str, tuple[str, Any]] | None = None, prefix: str = ""
) -> ValidationError:
    """pydantic's errors as ours: `fields` (dotted path -> messages) and `codes` (dotted path -> stable code).

    `overrides` maps `path:code` (list indices as `*`, e.g. `guests:required`) to (code, message) for the
    operations whose fields had codes of their own before the contract was typed (`guests_missing`).
    """
    errors = ValidationError()
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        path = ".".join(loc)
        ctx = dict(error.get("ctx") or {})
        kind = error["type"]
        code = _PYDANTIC_CODES.get(kind, kind)
        if kind in _TYPE_ERRORS:
            code, ctx["expected"] = "type_invalid", _TYPE_ERRORS[kind]
        elif kind in ("too_long", "string_too_long"):
            ctx["max"] = ctx.get("max_length")
        elif kind == "too_short":
            ctx["min"] = ctx.get("min_length")
        elif kind in ("greater_than_equal", "less_than_equal"):
            ctx["expected"] = f">= {ctx.get('ge')}" if "ge" in ctx else f"<= {ctx.get('le')}"
        elif code == "value_invalid" and loc and f"{loc[-1]}_invalid" in CODES:
            code = f"{loc[-1]}_invalid"  # doc_type, sex: the codes the rules use
        generic = ".".join("*" if part.isdigit() else part for part in loc)
        rule = RULE_CODES.get(f"{loc[-1]}:{code}") if loc else None
        code, message = (overrides or {}).get(f"{generic}:{code}", rule or (code, CODES.get(code)))
        if message is None:
            text = error["msg"]
        else:
            try:
                text = str(message % ctx) if "%(" in str(message) else str(message)
            except (KeyError, TypeError, ValueError):
                text = str(message)
        errors.add(prefix + path, text, code)
    return errors


# --------------------------------------------------------------------------------------------------------
# Reading a request
# --------------------------------------------------------------------------------------------------------


def json_object(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body (see the module's docstring for the 400/413/415 answers)."""
    data = request.get_data(cache=True)
    if not data.strip():
        if required:
            abort(400, description="A JSON object body is expected")
        return {}
    if not request.is_json:
        abort(415, description="The body must be JSON (Content-Type: application/json)")
    try:
        value = read_json(data)
    except ValueError as exc:
        abort(400, description=f"The body is not valid JSON: {exc}")
    if not isinstance(value, dict):
        abort(400, description="A JSON object body is expected")
    return value


def read_body(model: type[M], *, required: bool = True, overrides: Mapping[str, tuple[str, Any]] | None = None) -> M:
    """The request's body as `model`; ValidationError (422) for its fields, 400/413/415 for the body itself."""
    return validate(model, json_object(required=required), overrides)


def validate(model: type[M], value: Any, overrides: Mapping[str, tuple[str, Any]] | None = None) -> M:
    try:
        return model.model_validate(value)
    except PydanticError as exc:
        raise field_errors(exc, overrides) from None


def read_query(model: type[M]) -> M:
    """The query string as `model` (a parameter given twice: its first value, as `request.args.get` gives)."""
    try:
        return model.model_validate(request.args.to_dict(), strict=False)
    except PydanticError as exc:
        raise field_errors(exc) from None


# --------------------------------------------------------------------------------------------------------
# Operations: what the document says of each route
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One status an operation answers: what it means, its JSON (a model), its stable error codes."""

    description: str
    model: type[BaseModel] | None = None
    codes: tuple[str, ...] = ()
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # operationId -> {parameter: expression}


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: Mapping[int, Outcome]
    description: str = ""
    body: type[BaseModel] | None = None  # a JSON object body
    body_required: bool = True
    content: Mapping[str, Any] | None = None  # other bodies (an image), as OpenAPI content
    query: type[BaseModel] | None = None
    idempotent: bool = False
    field_codes: tuple[str, ...] = ()  # the codes `error.codes` may hold, besides the contract's
    media: str | None = None  # the operation's own answers in another media type (FHIR: application/fhir+json)


def operation(summary: str, answers: Mapping[int, Outcome], **kwargs: Any) -> Callable[[F], F]:
    """Declare a route's operation for the OpenAPI document (`asm.api.openapi`). Put it under the route."""

    def mark(view: F) -> F:
        view.api_operation = Operation(summary, answers, **kwargs)  # type: ignore[attr-defined]
        return view

    return mark
