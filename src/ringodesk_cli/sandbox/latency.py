"""How long the sandbox takes to answer one Desk request: a fixed time, or a time that varies
around it (a real Zoho's answer times vary, and a client that keeps its concurrency slots
busy under a fixed latency may still leave them idle when answers come back out of step).

* ``uniform``: uniformly between ``latency - spread`` and ``latency + spread`` (mean latency).
* ``lognormal``: log-normal with mean ``latency`` and standard deviation ``spread``: most
  answers a little faster than the mean, a few much slower.

Draws come from their own seeded generator, so a run is reproducible in distribution (the
order in which threads draw still varies).
"""

from __future__ import annotations

import math
import random
import threading

__all__ = ["SHAPES", "Latency", "parse_spread"]

SHAPES = ("uniform", "lognormal")


class Latency:
    """Answer times in seconds. Thread-safe."""

    def __init__(self, latency_ms: float, spread_ms: float = 0, shape: str = "uniform", *,
                 seed: int = 1) -> None:  # fmt: skip
        if shape not in SHAPES:
            raise ValueError(f"latency shape must be one of {', '.join(SHAPES)}, not {shape!r}")
        if latency_ms < 0 or spread_ms < 0:
            raise ValueError("latency and its spread cannot be negative")
        self.latency_ms = float(latency_ms)
        self.spread_ms = float(spread_ms)
        self.shape = shape
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        mean = max(self.latency_ms, 1e-9)
        # Log-normal parameters for the wanted mean m and deviation s:
        # sigma² = ln(1 + s²/m²), mu = ln(m) - sigma²/2.
        self._sigma = math.sqrt(math.log(1 + (self.spread_ms / mean) ** 2))
        self._mu = math.log(mean) - self._sigma**2 / 2

    def seconds(self) -> float:
        """One answer time."""
        if not self.latency_ms:
            return 0.0
        if not self.spread_ms:
            return self.latency_ms / 1000
        with self._lock:
            if self.shape == "uniform":
                low = max(0.0, self.latency_ms - self.spread_ms)
                ms = self._rng.uniform(low, self.latency_ms + self.spread_ms)
            else:
                ms = self._rng.lognormvariate(self._mu, self._sigma)
        return ms / 1000


def parse_spread(text: str) -> tuple[int, str]:
    """``MS`` or ``MS:SHAPE`` (e.g. ``50``, ``30:lognormal``) -> (spread in ms, shape)."""
    value, _, shape = text.partition(":")
    shape = shape.strip() or "uniform"
    try:
        spread = int(value)
    except ValueError:
        raise ValueError(f"expected MS or MS:SHAPE (e.g. 50, 30:lognormal), not {text!r}") from None
    if spread < 0 or shape not in SHAPES:
        shapes = ", ".join(SHAPES)
        raise ValueError(f"the spread is a number of ms ≥ 0 and the shape one of {shapes}")
    return spread, shape
