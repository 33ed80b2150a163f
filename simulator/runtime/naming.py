"""Object ids derived from names, as `idFromName` does: stable, 64 hex digits."""

from __future__ import annotations

import hashlib


def object_id_for(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()
