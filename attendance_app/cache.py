"""The Redis cache, made to degrade rather than fail (security Q-06): with Redis stopped or
unreachable every cache call answers as if the cache were empty, so nothing that uses the
cache turns a request into a 500, and marking a register (the statutory action) still works.

- Reads miss (``get`` gives the default, ``has_key`` is False); writes and deletes do nothing;
  ``add`` says the key is there (so nothing is done "once" on a cache that cannot remember it);
  ``incr`` raises ``CacheUnavailable``, a ``ValueError`` like a missing key's, so a counter
  that catches ``ValueError`` starts again at 1 (fails open) unless it catches
  ``CacheUnavailable`` first to fail closed. Each use's choice is listed in README "Recovery".
- Sessions (``cached_db``) then read and write the database alone: nobody is signed out.
- After a failure the cache is not tried again for ``RETRY_AFTER`` seconds, so
  an outage costs each request nothing, not a connection attempt per call; connections have
  short timeouts (settings ``CACHES``), so a silent network costs at most that once.
- When Redis comes back, each process that saw it go deletes the cached sessions on its first
  call (it cannot know which changed meanwhile: a sign-out during the outage deleted the
  session from the database only, and its stale cached copy must not sign anyone back in).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_KEY_PREFIX
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_T = TypeVar("_T")


class CacheUnavailable(ValueError):  # noqa: N818 (reads as the condition, like Django's)
    """``incr`` on an unreachable cache."""


class DegradingRedisCache(RedisCache):
    RETRY_AFTER = 15.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Per instance (Django makes one per thread and alias): the thread that saw the
        # outage is the one that drops the cached sessions once it is over.
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._was_down = False

    def _call(self, operation: Callable[[], _T], default: _T) -> _T:
        if time.monotonic() < self._down_until:
            return default
        if self._was_down and not self._recover():
            return default
        try:
            return operation()
        except UNAVAILABLE:
            self._went_down()
            return default

    def _went_down(self) -> None:
        with self._lock:
            if not self._was_down:
                logger.warning("Cache unavailable: carrying on without it (Redis down?)")
            self._was_down = True
            self._down_until = time.monotonic() + self.RETRY_AFTER

    def _recover(self) -> bool:
        """Back after an outage: drop the cached sessions before anything is read, so no stale
        copy of a session ended meanwhile is served. False if Redis is still unreachable."""
        try:
            client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
            stale = list(client.scan_iter(match=self.make_key(SESSION_KEY_PREFIX + "*")))
            if stale:
                client.delete(*stale)
        except UNAVAILABLE:
            self._went_down()
            return False
        with self._lock:
            self._was_down = False
        logger.warning("Cache back: %d cached sessions dropped", len(stale))
        return True

    # Reads: a miss.
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call(lambda: RedisCache.get(self, key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._call(lambda: RedisCache.get_many(self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call(lambda: RedisCache.has_key(self, key, version), False)

    # Writes: nothing happens; add() answers "already there".
    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._call(lambda: RedisCache.set(self, key, value, timeout, version), None)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._call(lambda: RedisCache.add(self, key, value, timeout, version), False)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._call(lambda: RedisCache.touch(self, key, timeout, version), False)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        return self._call(lambda: RedisCache.set_many(self, data, timeout, version), [])

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call(lambda: RedisCache.delete(self, key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._call(lambda: RedisCache.delete_many(self, keys, version), None)

    def clear(self) -> None:
        self._call(lambda: RedisCache.clear(self), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        value: int | None = self._call(lambda: RedisCache.incr(self, key, delta, version), None)
        if value is None:
            raise CacheUnavailable(f"cache unavailable: cannot count {key!r}")
        return value
