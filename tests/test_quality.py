"""Static checks that CI runs with the tests: style, layering, types of the pure core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", "src", "tests", "bench"],
        [str(BIN / "lint-imports")],
        [str(BIN / "mypy"), "src/missiond/core"],
    ],
    ids=["ruff", "import-layers", "mypy-strict-core"],
)
def test_static_check_passes(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
