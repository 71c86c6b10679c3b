"""The demo's workspace: a small git repository whose tests fail, and the mission that fixes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FILES = {
    "README.md": "# demo\n\nA tiny project that missiond's demo agents work on.\n",
    "calc.py": '"""Arithmetic."""\n\n\ndef add(a: int, b: int) -> int:\n    return a - b  # bug\n',
    "tests/__init__.py": "",
    "tests/test_greeting.py": (
        "import unittest\n\n\nclass Greeting(unittest.TestCase):\n"
        "    def test_greets_by_name(self):\n"
        "        from greeting import greet\n\n"
        '        self.assertEqual(greet("Ada"), "Hello, Ada!")\n'
    ),
    "tests/test_calc.py": (
        "import unittest\n\nfrom calc import add\n\n\nclass Add(unittest.TestCase):\n"
        "    def test_adds_positive_numbers(self):\n        self.assertEqual(add(2, 3), 5)\n\n"
        "    def test_adds_negative_numbers(self):\n        self.assertEqual(add(-1, 1), 0)\n"
    ),
    "tests/test_notes.py": (
        "import pathlib\nimport unittest\n\n\nclass Notes(unittest.TestCase):\n"
        "    def test_release_notes_mention_every_change(self):\n"
        '        notes = pathlib.Path("NOTES.md").read_text()\n'
        '        self.assertIn("greet", notes)\n        self.assertIn("add", notes)\n'
    ),
}


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@missiond.demo"}
    env |= {"GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@missiond.demo"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_repo(repo: Path) -> str | None:
    """Write the project and commit it. Git is optional (the mission needs only the files):
    returns why the repository could not be made, or None when it was."""
    for name, text in FILES.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    try:
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "A tiny project with failing tests")
    except OSError as exc:
        return f"git could not run ({exc.strerror or exc})"
    except subprocess.CalledProcessError as exc:
        return f"git {exc.cmd[1]} failed: {(exc.stderr or b'').decode(errors='replace').strip()[:200]}"
    return None


def test_command() -> str:
    # Each item has its own test module; the gate runs the real tests for the item it checks.
    return f'"{sys.executable}" -m unittest -v "tests.test_$MISSIOND_ITEM_ID"'


def mission_spec(repo: Path) -> dict[str, Any]:
    return {
        "title": "Make the demo project's tests pass",
        "goal": "greet(), a correct add() and release notes, each proven by its test",
        "success_criteria": ["python -m unittest passes"],
        "workspace": str(repo),
        "roles": {"executor": {"adapter": "pull"}, "reviewer": {"adapter": "scripted"}},
        "gates": {
            # The built-in reviewer reviews the code items; the release notes are a person's to
            # review (the item's own gate).
            "review": {"required": True, "by": "agent"},
            "test": {"command": test_command(), "timeout_s": 120, "env": {"PYTHONDONTWRITEBYTECODE": "1"}},
        },
        "budgets": {"max_rework": 2, "max_parallel": 3},
        "work_items": [
            {"id": "greeting", "title": "Add greet(name)", "description": "tests/test_greeting.py must pass"},
            {"id": "calc", "title": "Fix add()", "description": "tests/test_calc.py fails: add() subtracts"},
            {
                "id": "notes",
                "title": "Write the release notes",
                "description": "NOTES.md names every change; a person reviews it",
                "depends_on": ["greeting", "calc"],
                "review": "human",
            },
        ],
    }


def routine_action(repo: Path) -> dict[str, Any]:
    return {
        "kind": "command",
        "argv": [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
        "cwd": str(repo),
        "timeout_s": 120,
    }
