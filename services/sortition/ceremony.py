"""The rules of the draw ceremony: who may publish a lottery or enter a seed, and what a
seed's public source may say.

The service does not authenticate callers yet (a bearer-token interceptor comes with the
identity provider). Until then a caller *declares* who they are (``published_by``,
``entered_by``) and the declaration is recorded, announced with the event and kept with the
run. ``CeremonyAuthority`` is the seam: the authenticating version checks the caller's token
(the role that holds the ceremony, scoped to the assembly) and returns the identity to
record instead of the declared one.
"""
from __future__ import annotations

import unicodedata
from typing import Protocol

import grpc

from services.sortition.messages import RequestError

# As wide as the columns that keep them.
MAX_PERSON = 200
MAX_SEED_SOURCE = 500


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    text = unicodedata.normalize("NFC", value or "").strip()
    if required and not text:
        raise RequestError(field, "is required: the draw records who did it")
    if len(text) > limit:
        raise RequestError(field, f"must be at most {limit} characters, got {len(text)}")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise RequestError(field, "must not contain control characters")
    return text


class CeremonyAuthority(Protocol):
    """Who the caller is, for the ceremony's steps; raises ``Abort``/``RequestError`` when
    the caller may not take the step."""

    def publisher(self, context: grpc.ServicerContext, assembly_id: str,
                  declared: str) -> str: ...

    def seed_enterer(self, context: grpc.ServicerContext, assembly_id: str,
                     declared: str) -> str: ...


class DeclaredIdentity:
    """Records the identity the request declares (no gRPC authentication yet)."""

    def publisher(self, context: grpc.ServicerContext, assembly_id: str,
                  declared: str) -> str:
        return _text(declared, "published_by", MAX_PERSON, required=True)

    def seed_enterer(self, context: grpc.ServicerContext, assembly_id: str,
                     declared: str) -> str:
        return _text(declared, "entered_by", MAX_PERSON, required=True)


def seed_source(value: str) -> str | None:
    """The public source a seed names (a lottery draw, a beacon pulse), or None."""
    return _text(value, "seed_source", MAX_SEED_SOURCE, required=False) or None
