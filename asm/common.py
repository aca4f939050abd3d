"""What every service shares: who acts, and how a rule says no."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext

from asm import text as rules


@dataclass(frozen=True)
class Actor:
    """Who does a write: a user at a desk, an API token, a kiosk device or the system (CLI, demo)."""

    label: str
    user_id: int | None = None
    token_id: int | None = None
    kind: str = "user"

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label, kind="system")


@dataclass
class ValidationError(Exception):
    """A rule refused the input. `errors` maps a field (dotted for nested input) to messages."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str, message: str, code: str = "invalid") -> None:
        self.errors.setdefault(field_name, []).append(str(message))
        self.codes.setdefault(field_name, code)

    def refuse(self, field_name: str, exc: rules.TextError) -> None:
        """A text rule's refusal (``asm.text``), its message in the request's language."""
        self.add(field_name, text_message(exc), exc.code)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def messages(self) -> list[str]:
        """Every message, field by field, for a page that shows them together."""
        return [m for msgs in self.errors.values() for m in msgs]

    def __str__(self) -> str:
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())


def text_message(exc: rules.TextError) -> str:
    """The message of a refused text, translated (the message ids of ``asm.text`` are Vietnamese)."""
    return gettext(exc.msgid, **exc.params)


def free_text(errors: ValidationError, field_name: str, value: str | None, *, max_length: int) -> str:
    """Typed text read by a service (a reason, a note, a room name): ``asm.text.free_text``, its refusal added to
    ``errors`` under ``field_name`` (then the text comes back as given, to be shown again, never stored)."""
    try:
        return rules.free_text(value if isinstance(value, str) else "", max_length=max_length)
    except rules.TextError as exc:
        errors.refuse(field_name, exc)
        return value or ""


class Conflict(Exception):
    """The request is valid but clashes with the current state (e.g. the guest already has an open stay)."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
