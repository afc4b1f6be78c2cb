"""A payload = a schema plus a deterministic value, under a name users type on the command line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from payloads.model import Record, normalize


class UnknownPayload(KeyError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown payload {self.name!r}; known payloads: {', '.join(self.known)}"


@dataclass(eq=False)
class Payload:
    name: str
    description: str
    schema: Record
    build: Callable[[], Any] = field(repr=False)
    source: str = "built-in"  # or the user's file path
    notes: tuple[str, ...] = ()

    @cached_property
    def value(self) -> Any:
        """The canonical (validated, normalized) value; built once."""
        return normalize(self.schema, self.build())


def builtin_payloads() -> list[Payload]:
    from payloads import taxi

    return taxi.payloads()


def find_payloads(names: list[str] | None, available: list[Payload] | None = None) -> list[Payload]:
    """The payloads named (all built-ins when ``names`` is empty), in the order given."""
    available = builtin_payloads() if available is None else available
    if not names:
        return available
    by_name = {p.name: p for p in available}
    out = []
    for n in names:
        if n not in by_name:
            raise UnknownPayload(n, list(by_name))
        out.append(by_name[n])
    return out
