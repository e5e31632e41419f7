"""What the bot remembers, bounded: the last plan per thread, recent answers, deliveries already seen."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A thread-safe mapping that forgets its least recently used entries beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value under a key (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        """Remember a value, forgetting the oldest entry when full."""
        with self._lock:
            self._store(key, value)

    def add_new(self, key: K, value: V) -> bool:
        """Remember a value only if the key is not there yet; True when it was new (one caller wins a race)."""
        with self._lock:
            if key in self._items:
                return False
            self._store(key, value)
            return True

    def _store(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
