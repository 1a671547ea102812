"""Submission quotas: several fixed-window limits taken in one storage round trip.

Flask-Limiter guards every other public endpoint. The survey POST is the one hot path a QR
campaign hammers, and its rule is "only stored responses count" (a citizen correcting a
mistake is not penalised; a repeat of an answer already stored counts once; a flagged
submission is counted apart). With Flask-Limiter that rule needs a test before and a hit
after for each limit, two Redis round trips per limit. Here every limit of the request
(browser, address, service point) is taken at once (one Lua call on Redis, in-process
counters otherwise) and given back in the rare case nothing new was stored.
On Redis the call is sent as the request starts and its answer read when the view is about
to store (``require_quota``): the round trip overlaps the request's own work.

The counters live in the same storage as Flask-Limiter's (``RATELIMIT_STORAGE_URI``, Redis
when ``REDIS_URL`` is set), through the ``limits`` package that Flask-Limiter itself uses, so
several app servers share them. Without it (``memory://``) each process counts for itself.
The Redis side relies on ``limits``' and redis-py's internals (the storage's key prefix and
client, a connection's send and read): the versions it was verified with are pinned in
setup.cfg and ``tests/production/test_library_fences.py`` fails when they move.
When the shared storage fails, counting goes on per process in memory (as
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`` does for Flask-Limiter) and the storage is tried
again after a growing pause: a citizen's answer is never refused because Redis is down.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask, Response, current_app, g, make_response, request
from limits import RateLimitItem, parse
from limits.storage import RedisStorage, Storage, storage_from_string
from redis import exceptions as redis_exceptions
from werkzeug.exceptions import TooManyRequests

from .extensions import limiter

log = logging.getLogger(__name__)

# KEYS: the counters; ARGV[1]: the amount; ARGV[i + 1]: the window of KEYS[i] in seconds.
# A counter's window starts with its first hit, as in limits' fixed-window strategy.
_TAKE = """
local amount = tonumber(ARGV[1])
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCRBY', key, amount)
  if n == amount then redis.call('EXPIRE', key, ARGV[i + 1]) end
  counts[i] = n
end
return counts
"""

# Giving back never creates a counter that has expired meanwhile (it would never expire).
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) then redis.call('DECRBY', key, ARGV[1]) end
end
return 0
"""

FALLBACK_PAUSES = (1, 2, 5, 10, 30, 60)  # seconds before the shared storage is tried again


@dataclass(frozen=True)
class Quota:
    """One limit: its name (part of the counter's key), the setting holding it ("10 per
    hour") and the function giving the request's key (a client hash, a service point)."""
    scope: str
    setting: str
    key: Callable[[], str]


class LocalCounters:
    """Fixed-window counters in this process: a dict with lazy expiry, swept when it grows.
    (limits' MemoryStorage starts a timer thread every 10 ms under traffic to expire keys;
    a submission does not need that.)"""

    def __init__(self):
        self._counts: dict[str, list] = {}  # key -> [count, window ends at (monotonic)]
        self._lock = threading.Lock()
        self._sweep_above = 10_000

    def incr(self, key: str, window: int) -> int:
        now = time.monotonic()
        with self._lock:
            entry = self._counts.get(key)
            if entry is None or entry[1] <= now:
                entry = self._counts[key] = [0, now + window]
                if len(self._counts) > self._sweep_above:
                    self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                    self._sweep_above = max(10_000, 2 * len(self._counts))
            entry[0] += 1
            return entry[0]

    def decr(self, key: str) -> None:
        with self._lock:
            entry = self._counts.get(key)
            if entry is not None and entry[0] > 0:
                entry[0] -= 1

    def seconds_left(self, key: str) -> float:
        entry = self._counts.get(key)
        return entry[1] - time.monotonic() if entry else 0.0


class Ticket:
    """One request's counts, taken but maybe not yet read back: on Redis the command is sent
    when the request starts and its answer read only when the view is about to store
    (``require_quota``), so the round trip overlaps the request's own work instead of
    stalling the worker."""

    __slots__ = ("store", "counters", "limits", "values", "shared", "_conn", "checked", "returned")

    def __init__(self, store: "QuotaStore", counters: list[tuple[str, int]], limits: list[RateLimitItem]):
        self.store, self.counters, self.limits = store, counters, limits
        self.values: list[int] | None = None
        self.shared = False
        self._conn = None
        self.checked = False  # the view asked before storing
        self.returned = False  # the counts were given back

    def settle(self) -> tuple[list[int], bool]:
        """The counters' new values (reading the answer if it is still on its way)."""
        if self.values is None:
            conn, self._conn = self._conn, None
            self.values, self.shared = self.store._finish(conn, self.counters)
        return self.values, self.shared

    def over(self) -> list[int]:
        values, _ = self.settle()
        return [i for i, (value, item) in enumerate(zip(values, self.limits)) if value > item.amount]

    def give_back(self) -> None:
        values, shared = self.settle()
        if not self.returned:
            self.returned = True
            self.store.give_back(self.counters, shared)

    def check(self) -> None:
        """Raise 429 (giving the counts back) if a limit is used up."""
        self.checked = True
        over = self.over()
        if over:
            self.give_back()
            refusal = TooManyRequests()
            refusal.retry_after = max(self.store.seconds_left(self.counters[i][0], self.shared) for i in over)
            raise refusal


class QuotaStore:
    """The counters of one app: the shared storage (``None`` for ``memory://``), and process
    memory when there is none or it fails."""

    def __init__(self, uri: str, **options):
        self.shared: Storage | None = None if uri.startswith("memory://") else storage_from_string(uri, **options)
        self.local = LocalCounters()
        # One round trip for all counters on a plain Redis; key by key on anything else
        # (a cluster may keep the keys on different nodes).
        self._scripts = None
        self._client = None
        if type(self.shared) is RedisStorage:
            self._client = self.shared.get_connection()
            self._scripts = self._client.register_script(_TAKE), self._client.register_script(_GIVE_BACK)
        self._conns = threading.local()  # each thread (and forked worker) its own connection
        self._failures = 0
        self._retry_at = 0.0

    def _failed(self, exc: Exception) -> None:
        pause = FALLBACK_PAUSES[min(self._failures, len(FALLBACK_PAUSES) - 1)]
        self._failures += 1
        self._retry_at = time.monotonic() + pause
        log.warning("rate-limit storage unavailable (%s); counting in memory for %ss", exc, pause)

    def _connection(self):
        """This thread's own Redis connection, kept across requests (a new one after a fork):
        sending and reading one command a request needs no pool round."""
        pid = os.getpid()
        conn = getattr(self._conns, "conn", None)
        if conn is None or self._conns.pid != pid:
            conn = self._conns.conn = self._client.connection_pool.make_connection()
            self._conns.pid = pid
        return conn

    def start(self, counters: list[tuple[str, int]], limits: list[RateLimitItem]) -> Ticket:
        """Add one to every counter: on Redis, send the command and return at once."""
        ticket = Ticket(self, counters, limits)
        if self.shared is not None and time.monotonic() >= self._retry_at:
            if self._scripts is not None:
                conn = None
                try:
                    conn = self._connection()
                    keys = [self.shared.prefixed_key(k) for k, _ in counters]
                    conn.send_packed_command(conn.pack_command(
                        "EVALSHA", self._scripts[0].sha, len(keys), *keys, 1, *(w for _, w in counters)),
                        check_health=False)
                    ticket._conn = conn
                    return ticket
                except Exception as exc:  # noqa: BLE001 - any storage failure: count in memory instead
                    if conn is not None:
                        conn.disconnect()
                    self._failed(exc)
            else:
                try:
                    ticket.values, ticket.shared = [self.shared.incr(key, window, 1) for key, window in counters], True
                    self._failures = 0
                    return ticket
                except Exception as exc:  # noqa: BLE001
                    self._failed(exc)
        ticket.values = [self.local.incr(key, window) for key, window in counters]
        return ticket

    def _finish(self, conn, counters: list[tuple[str, int]]) -> tuple[list[int], bool]:
        """Read the answer to a command ``start`` sent (``conn``), or count in memory."""
        if conn is not None:
            try:
                try:
                    values = conn.read_response()
                except redis_exceptions.NoScriptError:  # Redis restarted: load the script, once more
                    keys = [self.shared.prefixed_key(k) for k, _ in counters]
                    values = self._scripts[0](keys, [1, *(w for _, w in counters)])
                self._failures = 0
                return [int(v) for v in values], True
            except Exception as exc:  # noqa: BLE001 - any storage failure: count in memory instead
                conn.disconnect()  # an unread or half-read answer would be read by the next request
                self._failed(exc)
        return [self.local.incr(key, window) for key, window in counters], False

    def take(self, counters: list[tuple[str, int]]) -> tuple[list[int], bool]:
        """Add one to every counter; returns their new values and whether the shared storage holds them."""
        return self.start(counters, []).settle()

    def give_back(self, counters: list[tuple[str, int]], shared: bool) -> None:
        if not shared:
            for key, _ in counters:
                self.local.decr(key)
            return
        try:
            if self._scripts is not None:
                self._scripts[1]([self.shared.prefixed_key(k) for k, _ in counters], [1])
            else:
                for key, window in counters:
                    self.shared.incr(key, window, -1)
        except Exception as exc:  # noqa: BLE001 - a lost refund only makes the limit stricter
            log.warning("could not give back a rate-limit count: %s", exc)

    def seconds_left(self, key: str, shared: bool) -> int:
        try:
            left = self.shared.get_expiry(key) - time.time() if shared else self.local.seconds_left(key)
        except Exception:  # noqa: BLE001 - only a hint for Retry-After
            return 60
        return max(1, int(left))


def init_app(app: Flask) -> None:
    app.extensions["surveyapp.quota"] = QuotaStore(app.config["RATELIMIT_STORAGE_URI"],
                                                   **app.config["RATELIMIT_STORAGE_OPTIONS"])


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> RateLimitItem:
    return parse(text)


def _counters(quotas: tuple[Quota, ...]) -> tuple[list[tuple[str, int]], list[RateLimitItem]]:
    limits = [_parse(current_app.config[q.setting]) for q in quotas]
    return [(item.key_for("quota", q.scope, q.key()), item.get_expiry()) for q, item in zip(quotas, limits)], limits


def require_quota(flagged: bool = False) -> None:
    """Called by a ``counted`` view just before it stores: 429 if a quota is used up. Nothing
    before this point may write (the counts may still be on their way from Redis).

    ``flagged``: the submission is stored but left out of the indices (a bot, a form sent too
    fast). It gives back what it took from the genuine quotas, which citizens share (a service
    point's above all), and is counted on the view's ``flagged`` quotas instead."""
    ticket: Ticket | None = g.get("_quota_ticket")
    if ticket is None:
        return
    view_flagged: tuple[Quota, ...] = g.get("_quota_flagged") or ()
    if flagged and view_flagged:
        ticket.checked = True
        ticket.give_back()
        counters, limits = _counters(view_flagged)
        ticket = g._quota_ticket = current_app.extensions["surveyapp.quota"].start(counters, limits)
    ticket.check()


def release_quota() -> None:
    """The view answered without storing anything new (a repeat of a stored idempotency key):
    give the counts back, whatever the response."""
    ticket: Ticket | None = g.get("_quota_ticket")
    if ticket is not None:
        ticket.checked = True
        ticket.give_back()


@limiter.request_filter
def _counted_by_quotas() -> bool:
    """Flask-Limiter leaves the views decorated with ``counted`` alone: their quotas count them
    (only what is stored), so resolving Flask-Limiter's limits there would be work for nothing."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "counted_by_quotas", False)


def counted(*quotas: Quota, flagged: tuple[Quota, ...] = (), methods: tuple[str, ...] = ("POST",),
            stored: Callable[[Response], bool] = lambda r: r.status_code < 400):
    """Decorate a view: its requests in ``methods`` take one from every quota (sent when the
    request starts, checked by the view's ``require_quota()`` before it stores, 429 when one
    is used up) and give it back unless ``stored(response)``. ``flagged``: the quotas that a
    submission the view stores flagged counts against instead (``require_quota(flagged=True)``)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method not in methods or not current_app.config["RATELIMIT_ENABLED"]:
                return view(*args, **kwargs)
            store: QuotaStore = current_app.extensions["surveyapp.quota"]
            counters, limits = _counters(quotas)
            g._quota_ticket, g._quota_flagged = store.start(counters, limits), flagged
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                g._quota_ticket.give_back()  # (reads the answer: the connection serves the next request)
                raise
            finally:
                ticket, g._quota_ticket = g._quota_ticket, None
            if stored(response):
                if not ticket.checked:  # a view that stored without asking: counted, but say so
                    ticket.settle()
                    log.error("%s stored without require_quota()", request.endpoint)
                return response
            if not ticket.checked:
                ticket.check()  # over a limit: 429 whatever the view answered, as before
            ticket.give_back()
            return response

        wrapper.counted_by_quotas = True
        return wrapper

    return decorate


__all__ = ["Quota", "QuotaStore", "Ticket", "counted", "init_app", "require_quota", "release_quota"]
