"""Stable identifiers: the same inputs give the same id on every run and machine."""

from __future__ import annotations

import hashlib


def stable_id(*parts: object, length: int = 16) -> str:
    """A short hex digest of the parts, joined with a separator that cannot occur in them."""
    raw = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()[:length]
