"""Loaded by every Python started with this folder on ``PYTHONPATH`` (pytest under
``tests/year_ahead.sh``, and each ``ringodesk`` the tests run: see ``subprocess_env``). It
does nothing unless the process runs under libfaketime with the monotonic clock left real.

Why it exists: ``tests/year_ahead.sh`` runs the whole suite with the wall clock a year ahead
(libfaketime, ``FAKETIME_DONT_FAKE_MONOTONIC=1``: setting a machine's date moves the wall
clock, never the monotonic one). libfaketime 0.9.10 then still rewrites the absolute monotonic
deadline Python's ``time.sleep`` passes to ``clock_nanosleep`` and the call fails with EINVAL.
That is the tool's fault, not the product's, so under it ``time.sleep`` waits in ``select``
instead (a relative timeout libfaketime leaves alone). Dates are still a year ahead: only how
a sleep waits changes. See docs/testing.md, "A year ahead".
"""

from __future__ import annotations

import os

if "FAKETIME" in os.environ and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    import select
    import time

    _monotonic = time.monotonic

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = _monotonic() + seconds
        while (left := deadline - _monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
