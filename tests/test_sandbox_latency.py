"""The sandbox's answer times: fixed, or varying around the latency (uniform or log-normal),
set in the config, through set_faults and from `sandbox serve --latency-spread`."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
import typer
from sandbox_fixture import desk_session
from typer.testing import CliRunner

import ringodesk_cli.sandbox as sandbox_pkg
from ringodesk_cli.commands.sandbox import app as sandbox_app
from ringodesk_cli.sandbox import SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.latency import Latency, parse_spread


def test_fixed_latency_is_always_the_same() -> None:
    assert {Latency(100).seconds() for _ in range(50)} == {0.1}
    assert Latency(0, 50).seconds() == 0.0


def test_uniform_spread_stays_within_its_bounds_around_the_mean() -> None:
    latency = Latency(100, 50, "uniform", seed=3)
    draws = [latency.seconds() * 1000 for _ in range(4000)]
    assert 50 <= min(draws) < 55 and 145 < max(draws) <= 150
    assert statistics.fmean(draws) == pytest.approx(100, abs=2.5)


def test_lognormal_has_the_wanted_mean_and_deviation_and_a_long_tail() -> None:
    latency = Latency(100, 40, "lognormal", seed=5)
    draws = [latency.seconds() * 1000 for _ in range(8000)]
    assert statistics.fmean(draws) == pytest.approx(100, rel=0.04)
    assert statistics.pstdev(draws) == pytest.approx(40, rel=0.12)
    assert min(draws) > 0 and statistics.median(draws) < statistics.fmean(draws) < max(draws) / 2


def test_spread_text_and_bad_shapes() -> None:
    assert parse_spread("50") == (50, "uniform")
    assert parse_spread("30:lognormal") == (30, "lognormal")
    for bad in ("x", "-5", "10:gauss"):
        with pytest.raises(ValueError):
            parse_spread(bad)
    with pytest.raises(ValueError):
        Latency(100, 10, "gauss")


def _answer_times(sb: Any, count: int) -> list[float]:
    http = desk_session(sb)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        http.get(f"{sb.url}/api/v1/departments", timeout=5).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def test_the_sandbox_answers_after_a_varying_time() -> None:
    sb = start_sandbox(SandboxConfig(latency_ms=30, latency_spread_ms=25, seed=2))
    try:
        varied = _answer_times(sb, 12)
        assert min(varied) >= 0.004 and max(varied) < 0.2
        assert max(varied) - min(varied) > 0.015  # fixed answers would differ by ~1 ms
        sb.set_faults(latency_spread_ms=0)
        fixed = _answer_times(sb, 5)
        assert all(0.029 < t < 0.1 for t in fixed)
    finally:
        sb.stop()


def test_serve_takes_a_latency_spread(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[SandboxConfig] = []
    real = sandbox_pkg.start_sandbox

    def capture(cfg: SandboxConfig) -> Any:
        seen.append(cfg)
        return real(cfg)

    monkeypatch.setattr(sandbox_pkg, "start_sandbox", capture)
    app = typer.Typer()
    app.add_typer(sandbox_app, name="sandbox")
    args = ["sandbox", "serve", "--port", "0", "--json", "--serve-seconds", "0.1",
            "--latency-ms", "100", "--latency-spread", "30:lognormal"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (seen[0].latency_ms, seen[0].latency_spread_ms, seen[0].latency_shape) == (
        100, 30, "lognormal",
    )  # fmt: skip
    bad = CliRunner().invoke(app, [*args[:-1], "30:gauss"])
    assert bad.exit_code == 2 and "--latency-spread" in bad.output
