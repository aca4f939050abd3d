"""What every service shares: who acts, and how a rule says no."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def __bool__(self) -> bool:
        return bool(self.errors)

    def messages(self) -> list[str]:
        """Every message, field by field, for a page that shows them together."""
        return [m for msgs in self.errors.values() for m in msgs]

    def __str__(self) -> str:
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())


class Conflict(Exception):
    """The request is valid but clashes with the current state (e.g. the guest already has an open stay)."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
