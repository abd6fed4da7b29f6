"""README opens with the two commands a newcomer needs, and CI runs the README's test command."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_exactly_the_test_command_written_in_the_readme():
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'^TEST_COMMAND="(.+)"$', ci, re.M).group(1)
    readme = (ROOT / "README.md").read_text()
    assert command in readme


def test_the_readme_starts_with_the_main_job_and_the_tests():
    blocks = re.findall(r"```(?:bash|sh)\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert "legami demo" in blocks[0]
    assert "python -m pytest" in blocks[1]
