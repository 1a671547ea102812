"""A small, bounded load driver for the fault tests: citizens and kiosks against one or more
app servers, retrying what was not acknowledged, while the test breaks something."""
from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field

import requests

from .clients import CitizenForm, Kiosk, open_form, post_form


@dataclass
class LoadResult:
    forms: list[CitizenForm] = field(default_factory=list)
    statuses: dict[int | str, int] = field(default_factory=dict)  # status (or "conn") -> count
    retry_after: set[str] = field(default_factory=set)  # Retry-After values seen on 503
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, response: requests.Response | None) -> None:
        with self.lock:
            key = "conn" if response is None else response.status_code
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if response is not None and response.status_code == 503:
                self.retry_after.add(response.headers.get("Retry-After", ""))

    def acknowledged_keys(self) -> list[str]:
        return [f.key for f in self.forms if f.acknowledged]


class Balancer:
    """Round-robin over live servers, like nginx with ``proxy_next_upstream``: a server that
    refuses connections is skipped until the test says otherwise."""

    def __init__(self, urls: list[str]):
        self.urls = list(urls)
        self._cycle = itertools.cycle(range(len(self.urls)))
        self.down: set[str] = set()
        self.lock = threading.Lock()

    def pick(self) -> str:
        with self.lock:
            for _ in range(len(self.urls)):
                url = self.urls[next(self._cycle)]
                if url not in self.down:
                    return url
            return self.urls[0]

    def failed(self, url: str) -> None:
        with self.lock:
            if len(self.down) < len(self.urls) - 1:
                self.down.add(url)


def citizen_loop(balancer: Balancer, code: str, n: int, result: LoadResult, deadline: float) -> None:
    """``n`` citizens one after another: open the form, send it until it is acknowledged."""
    with requests.Session() as session:
        for _ in range(n):
            form = None
            while form is None and time.monotonic() < deadline:
                base = balancer.pick()
                try:
                    form = open_form(session, base, code)
                except (requests.RequestException, AssertionError):
                    balancer.failed(base)
                    time.sleep(0.05)
            if form is None:
                result.errors.append("could not open the form before the deadline")
                return
            with result.lock:
                result.forms.append(form)
            while not form.acknowledged and time.monotonic() < deadline:
                base = balancer.pick()
                r = post_form(session, base, form)
                result.note(r)
                if r is None:
                    balancer.failed(base)
                    time.sleep(0.05)
                elif r.status_code in (502, 503, 504):
                    time.sleep(min(float(r.headers.get("Retry-After", 1)), 0.3))
                elif r.status_code != 303:
                    result.errors.append(f"citizen POST answered {r.status_code}: {r.text[:200]}")
                    return


def kiosk_loop(balancer: Balancer, kiosk: Kiosk, rounds: int, result: LoadResult, deadline: float) -> None:
    """A tablet rating and syncing in small batches; unacknowledged batches stay queued."""
    with requests.Session() as session:
        for _ in range(rounds):
            for _ in range(random.randint(1, 5)):
                kiosk.rate()
            base = balancer.pick()
            r = kiosk.sync_once(base, session=session)
            result.note(r)
            if r is None:
                balancer.failed(base)
            time.sleep(0.02)
        while kiosk.queue and time.monotonic() < deadline:
            base = balancer.pick()
            r = kiosk.sync_once(base, session=session)
            result.note(r)
            if r is None:
                balancer.failed(base)
                time.sleep(0.05)
            elif r.status_code != 200:
                time.sleep(0.2)


def run_load(urls: list[str], code: str, *, citizens: int, forms_each: int, kiosks: list[Kiosk] = (),
             kiosk_rounds: int = 20, deadline: float = 60, during=None) -> LoadResult:
    """Run citizens and kiosks in threads; call ``during(result)`` from this thread meanwhile."""
    result = LoadResult()
    balancer = Balancer(urls)
    stop = time.monotonic() + deadline
    threads = [threading.Thread(target=citizen_loop, args=(balancer, code, forms_each, result, stop))
               for _ in range(citizens)]
    threads += [threading.Thread(target=kiosk_loop, args=(balancer, k, kiosk_rounds, result, stop)) for k in kiosks]
    for t in threads:
        t.start()
    try:
        if during:
            during(result, balancer)
    finally:
        for t in threads:
            t.join(deadline + 5)
    return result
