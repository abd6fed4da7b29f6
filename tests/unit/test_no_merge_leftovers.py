"""No tracked file keeps a merge's conflict markers (one reached README's pages table once)."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]



def test_no_tracked_text_file_holds_conflict_markers():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".html", ".txt", ".toml", ".json", ".js", ".css", ".cfg", ".ini", ""}:
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except (UnicodeDecodeError, OSError):
            continue
        opened = [i for i, line in enumerate(lines) if line.startswith("<<<<<<< ")]
        closed = [i for i, line in enumerate(lines) if line.startswith(">>>>>>> ")]
        if opened or closed:
            found.append(f"{name}:{(opened or closed)[0] + 1}")
    assert found == []
