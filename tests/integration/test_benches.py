"""The benchmark scripts still run, at tiny sizes.

They build commands and drive the server the way the engine and the API expect, and nothing
else would notice when that changes (bench/fanout.py once kept a Decimal quantity after orders'
amounts became `Scaled`). Their figures are not checked: bench/ prints them, and tests never
time anything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize(
    ("script", "args", "printed"),
    [
        ("engine.py", ["--commands", "300", "--naive-commands", "30"], ["engine / naive:"]),
        ("fanout.py", ["--subscribers", "2", "--pairs", "20"], ["order path, 2 subscribers:"]),
        (
            "durability.py",
            ["--seconds", "0.3", "--connections", "2", "--rounds", "1"],
            ["journal / in-memory ="],
        ),
    ],
)
def test_bench_script_runs_and_prints_its_figures(
    script: str, args: list[str], printed: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for text in printed:
        assert text in done.stdout, done.stdout
