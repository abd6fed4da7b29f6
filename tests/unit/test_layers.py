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


# Services that still write their own SQL, each with the reason; the list may only shrink (ARCHITECTURE.md:
# "store/: tables + read modules + one unit of work; no SQL in services/").
SERVICES_WITH_SQL: dict[str, str] = {}
_SQL_MARKERS = ("sa.select(", "conn.execute(", ".insert()", ".update()", ".delete()", "engine.begin(",
                "engine.connect(")


def _sql_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if any(marker in line for marker in _SQL_MARKERS)]


def test_the_services_ask_the_store_for_data_and_write_in_its_unit_of_work():
    found = {p.name: lines for p in sorted((ROOT / "services").glob("*.py"))
             if p.name not in SERVICES_WITH_SQL and (lines := _sql_lines(p))}
    assert found == {}


def test_the_services_allowed_their_own_sql_still_have_some():
    """An entry whose module no longer writes SQL is taken off the list, so the list cannot hide a new one."""
    clean = [name for name in SERVICES_WITH_SQL if not _sql_lines(ROOT / "services" / name)]
    assert clean == []
