"""Measuring in turns, medians over the rounds, ratios and the printed table: shared by
every benchmark.

A *turn* is a callable ``turn(seconds) -> result`` that loads one thing for that long.
A result has ``requests_per_sec``, ``p50_ms``, ``p99_ms``, ``non_2xx_3xx``,
``socket_errors`` and ``as_dict()`` (which holds ``requests_per_sec`` too), as
:class:`bench.wrk.WrkResult` has.
"""
from __future__ import annotations

import os
import statistics
from typing import Callable, Protocol


class TurnResult(Protocol):
    requests_per_sec: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx_3xx: int
    socket_errors: int

    def as_dict(self) -> dict: ...


Turn = Callable[[int], TurnResult]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def log(message: str) -> None:
    print(message, flush=True)


def measure(turns: dict[str, Turn], seconds: int, rounds: int, warmup: int) -> dict[str, list]:
    """Every turn in its turn, ``rounds`` times, the order rotated each round; each turn
    warmed up before its first round only, so that the turns of a round follow each other
    closely and a slow spell of the machine falls on both sides of a ratio."""
    per_run = max(1, round(seconds / rounds))
    runs = {name: [] for name in turns}
    names = list(turns)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if warmup and round_number == 0:
                turns[name](warmup)
            result = turns[name](per_run)
            runs[name].append(result)
            log(f"  round {round_number + 1}/{rounds}  {name:<16} {result.requests_per_sec:9.1f} /s")
    return runs


def summarize(runs: dict[str, list]) -> dict[str, dict]:
    """Medians over the rounds: on a shared machine a busy neighbour spoils a round, not all."""
    summary = {}
    for name, results in runs.items():
        p50 = [r.p50_ms for r in results if r.p50_ms is not None]
        p99 = [r.p99_ms for r in results if r.p99_ms is not None]
        rates = [r.requests_per_sec for r in results]
        summary[name] = {
            # a few pages a second (OCR) need more decimals than thousands of requests
            "requests_per_sec": round(statistics.median(rates), 1 if min(rates) >= 10 else 3),
            "requests_per_sec_mean": round(statistics.mean(rates),
                                           1 if min(rates) >= 10 else 3),
            "p50_ms": round(statistics.median(p50), 2) if p50 else None,
            "p99_ms": round(statistics.median(p99), 2) if p99 else None,
            "non_2xx_3xx": sum(r.non_2xx_3xx for r in results),
            "socket_errors": sum(r.socket_errors for r in results),
            "runs": [r.as_dict() for r in results],
        }
    return summary


def _rounded(ratio: float) -> float:
    """Three decimals, or three significant digits for a ratio far below 1."""
    return round(ratio, 3) if abs(ratio) >= 0.1 else float(f"{ratio:.3g}")


def _shown(ratio: float, decimals: int) -> str:
    return f"{ratio:.{decimals}f}" if abs(ratio) >= 0.1 else f"{ratio:.3g}"


def ratios(summary: dict[str, dict], targets: list[tuple]) -> list[dict]:
    """``targets``: (label, numerator, denominator, target or None).

    The median of the per-round ratios: both sides of a round ran seconds apart,
    so a slow spell of the machine falls on both."""
    rows = []
    for label, numerator, denominator, target in targets:
        per_round = [n["requests_per_sec"] / d["requests_per_sec"] for n, d in
                     zip(summary[numerator]["runs"], summary[denominator]["runs"])]
        value = statistics.median(per_round)
        rows.append({"name": label, "value": _rounded(value), "target": target,
                     "result": None if target is None else ("PASS" if value >= target else "BELOW"),
                     "per_round": [_rounded(r) for r in per_round]})
    return rows


def print_report(summary: dict, ratio_rows: list[dict], unit: str = "req/s",
                 decimals: int = 1) -> None:
    def ms(value):
        return "-" if value is None else f"{value:.2f} ms"

    log("")
    log("medians over the rounds")
    log(f"{'endpoint':<18}{unit:>10}{'p50':>12}{'p99':>12}   per round ({unit})")
    for name, row in summary.items():
        per_round = ", ".join(f"{run['requests_per_sec']:.{decimals}f}"
                              if row["requests_per_sec"] < 100
                              else f"{run['requests_per_sec']:.0f}" for run in row["runs"])
        log(f"{name:<18}{row['requests_per_sec']:>10.{decimals}f}{ms(row['p50_ms']):>12}"
            f"{ms(row['p99_ms']):>12}   {per_round}")
        if row["non_2xx_3xx"] or row["socket_errors"]:
            log(f"{'':<18}warning: {row['non_2xx_3xx']} non-2xx/3xx responses, "
                f"{row['socket_errors']} socket errors")
    log("")
    log(f"{'ratio (median of per-round ratios)':<36}{'value':>8}{'target':>10}   "
        f"{'result':<8}per round (min-max)")
    for row in ratio_rows:
        target = "-" if row["target"] is None else f">= {row['target']:.2f}"
        spread = f"{_shown(min(row['per_round']), 2)}-{_shown(max(row['per_round']), 2)}"
        log(f"{row['name']:<36}{_shown(row['value'], 3):>8}{target:>10}   "
            f"{row['result'] or 'info':<8}{spread}")
