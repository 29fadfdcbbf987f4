"""The search benchmark still runs (on a tiny library), so it cannot rot between the times someone needs it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_search.py"


def test_bench_search_runs_on_a_tiny_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--photos", "400", "--runs", "3", "--explain", "--keep", str(tmp_path / "bench.sqlite")])
    output = capsys.readouterr().out
    assert "built 400 photos" in output
    assert "three-term boolean" in output and "goal p95 <= 10 ms" in output
    assert "INTEGER PRIMARY KEY" in output  # the plans were printed
