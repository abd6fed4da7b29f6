"""Front-end assets from the npm registry: `npm ci` on web/frontend's lockfile, then the few dist files the
pages use copied into web/static/vendor (Bootstrap Italia, htmx, and Swagger UI for /api/docs). Nothing
third-party is committed; `legami assets` (and `legami serve`, and the web tests) run this when the lockfile
changed or the files are missing."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parent
FRONTEND = WEB / "frontend"
VENDOR = WEB / "static" / "vendor"
STAMP = VENDOR / ".lock-sha256"

# (source under node_modules, destination under static/vendor)
FILES = [
    ("bootstrap-italia/dist/css/bootstrap-italia.min.css", "bootstrap-italia/css/bootstrap-italia.min.css"),
    ("bootstrap-italia/dist/js/bootstrap-italia.bundle.min.js", "bootstrap-italia/js/bootstrap-italia.bundle.min.js"),
    ("bootstrap-italia/dist/svg/sprites.svg", "bootstrap-italia/svg/sprites.svg"),
    ("bootstrap-italia/dist/fonts", "bootstrap-italia/fonts"),
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"),
]


class AssetsError(RuntimeError):
    pass


def _lock_digest() -> str:
    return hashlib.sha256((FRONTEND / "package-lock.json").read_bytes()).hexdigest()


def assets_ready() -> bool:
    return STAMP.exists() and STAMP.read_text().strip() == _lock_digest() and all(
        (VENDOR / dest).exists() for _, dest in FILES)


def ensure_assets(*, force: bool = False, quiet: bool = True) -> bool:
    """Install and copy the assets if needed; True if anything was done."""
    if assets_ready() and not force:
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError("npm non trovato: installare Node.js (npm) per scaricare Bootstrap Italia e htmx")
    # --ignore-scripts: the pages need files, not install scripts (swagger-ui-dist pulls in a telemetry one)
    result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                            cwd=FRONTEND, capture_output=quiet, text=True)
    if result.returncode != 0:
        raise AssetsError(f"npm ci non riuscito ({result.returncode}): {(result.stderr or '').strip()[-500:]}")
    modules = FRONTEND / "node_modules"
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for source, dest in FILES:
        src, dst = modules / source, VENDOR / dest
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    STAMP.write_text(_lock_digest())
    return True
