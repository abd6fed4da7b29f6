"""No source module of the product grows past 400 lines (issue 10): a module that does is two subjects, and its
next change would be harder to review. Benchmarks, tests and migrations are not product modules."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("cli", "config", "domain", "flows", "notifications", "reports", "services", "store", "web")
LIMIT = 400


def test_no_product_module_is_longer_than_400_lines():
    too_long = {}
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                too_long[str(path.relative_to(ROOT))] = lines
    assert too_long == {}
