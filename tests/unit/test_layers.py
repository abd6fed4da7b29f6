"""Which package may import which: the reports are computed by the caller, the domain reads no I/O."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_loaded_by(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_reports_loads_no_service_and_no_database_layer():
    loaded = _modules_loaded_by("import reports, reports.chart, reports.format, reports.model, reports.workbook")
    assert {m for m in loaded if m.split(".")[0] in ("services", "store", "sqlalchemy")} == set()


def test_the_reports_name_no_service_in_their_imports():
    lines = [f"{p.name}: {line.strip()}" for p in (ROOT / "reports").glob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith(("from services", "import services", "from store", "import store"))]
    assert lines == []


def test_the_italian_conventions_module_is_pure():
    loaded = _modules_loaded_by("import domain.italian")
    assert {m for m in loaded if m.split(".")[0] in ("services", "store", "config", "sqlalchemy", "web")} == set()
