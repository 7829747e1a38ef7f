"""Debounce: a hard action needs N consecutive breaching reads, so one bad tick flattens nothing."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


class Debouncer:
    """Counts consecutive reads per key; a key missing from a read resets to zero."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def observe(self, breached: Iterable[Hashable]) -> dict[Hashable, int]:
        """Record one read: keys in `breached` count up, every other key resets. Returns the counts."""
        seen = set(breached)
        self._counts = {k: self._counts.get(k, 0) + 1 for k in seen}
        return dict(self._counts)

    def count(self, key: Hashable) -> int:
        return self._counts.get(key, 0)

    def ready(self, key: Hashable, reads: int) -> bool:
        return self._counts.get(key, 0) >= reads

    def reset(self) -> None:
        self._counts.clear()
