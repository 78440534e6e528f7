"""A bounded mapping shared between threads: what a store or the API computes once per key (a
restricted view, its keyword search, its sources) and keeps for the next question, without
growing with every distinct key a long-running app is asked with (oldest kept first out).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from cachetools import FIFOCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """At most `size` values by key; the oldest key is dropped first when a new one comes."""

    def __init__(self, size: int) -> None:
        self._items: FIFOCache = FIFOCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, made (outside the lock) and kept when there is none; when two
        threads make one at once, the first kept is the one both get."""
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = make()
        with self._lock:
            return self._items.setdefault(key, value)

    def add(self, keys: Iterable[K], value: V) -> None:
        """Keep `value` for each of `keys` (a bounded set, when only membership matters)."""
        with self._lock:
            for key in keys:
                self._items[key] = value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
