"""The import page (coordinators, Ufficio di Piano): the template of each type to download, a file to upload for a
dry run or a load, the job's progress (polled with htmx while it runs) and its problems as CSV or XLSX. Access and
every check are the service layer's (services/importing.py, services/import_jobs.py)."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from domain.access import AccessDenied, import_refusal
from domain.errors import InvalidData
from domain.registry import all_case_types, get_case_type
from domain.validation import FieldError
from services import import_jobs
from services.import_files import problems_csv, problems_xlsx, write_template
from web.deps import CurrentUser, current_user, services
from web.form_input import FormInput
from web.routes.cases import _done
from web.templating import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _types(user: CurrentUser) -> list[tuple[str, str]]:
    return [(ct.case_type, ct.label) for ct in all_case_types() if import_refusal(user.principal, ct.case_type) is None]


def _page(request: Request, user: CurrentUser, errors: list[FieldError] = (), values: dict | None = None,
          status_code: int = 200):
    return render(request, "importa/pagina.html", {
        "titolo": "Importazione dei casi esistenti", "tipi": _types(user), "errori": list(errors),
        "valori": values or {}, "lavori": import_jobs.jobs_of(user.principal)[:10]}, status_code=status_code)


@router.get("/importa")
async def import_page(request: Request, user: CurrentUser = Depends(current_user)):
    return _page(request, user)


@router.get("/importa/modello/{case_type}.xlsx")
async def template(request: Request, case_type: str, user: CurrentUser = Depends(current_user)):
    get_case_type(case_type)  # an unknown type: 404
    refusal = import_refusal(user.principal, case_type)
    if refusal:
        raise AccessDenied(refusal)
    out = io.BytesIO()
    write_template(case_type, out)
    return Response(out.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="modello-{case_type}.xlsx"'})


@router.post("/importa")
async def upload(request: Request, user: CurrentUser = Depends(current_user)):
    form = await request.form()
    inp = FormInput(form)
    case_type, action = inp.get("tipo") or "", inp.get("azione") or ""
    upload_ = form.get("file")
    errors = []
    if case_type not in dict(_types(user)):
        errors.append(FieldError("tipo", "Tipo di caso", "scegliere un tipo di caso dell'elenco"))
    if upload_ is None or not getattr(upload_, "filename", ""):
        errors.append(FieldError("file", "File", "scegliere il file da importare (.xlsx o .csv)"))
    elif Path(upload_.filename).suffix.lower() not in (".xlsx", ".csv"):
        errors.append(FieldError("file", "File", "formato non riconosciuto: usare .xlsx o .csv"))
    if errors:
        return _page(request, user, errors, {"tipo": case_type}, status_code=422)
    suffix = Path(upload_.filename).suffix.lower()
    with tempfile.NamedTemporaryFile(prefix="legami-import-", suffix=suffix, delete=False) as f:
        while chunk := await upload_.read(1 << 20):
            f.write(chunk)
    svc = services(request)
    job = import_jobs.start(svc.engine, user.principal, case_type, Path(f.name), Path(upload_.filename).name,
                            dry_run=action != "carica", clock=svc.clock)
    return _done(request, f"/importa/lavori/{job.id}")


@router.get("/importa/lavori/{job_id}")
async def job_page(request: Request, job_id: str, user: CurrentUser = Depends(current_user)):
    job = import_jobs.job(job_id, user.principal)
    status = job.status  # read before the result: the job's thread sets the result, then the status
    result = job.result if status == "finito" else None
    return render(request, "importa/lavoro.html", {
        "titolo": "Importazione: " + ("prova" if job.dry_run else "caricamento"), "lavoro": job, "stato": status,
        "r": result, "tipo": get_case_type(job.case_type).label, "mostrati": result.problems[:200] if result else []})


@router.get("/importa/lavori/{job_id}/problemi.{fmt}")
async def problems(request: Request, job_id: str, fmt: str, user: CurrentUser = Depends(current_user)):
    job = import_jobs.job(job_id, user.principal)
    if job.result is None or fmt not in ("csv", "xlsx"):
        raise InvalidData([FieldError("formato", "Formato", "rapporto non disponibile (csv o xlsx, a lavoro finito)")])
    body, media = (problems_csv(job.result), "text/csv; charset=utf-8") if fmt == "csv" else \
        (problems_xlsx(job.result), XLSX)
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="problemi-{job.case_type}.{fmt}"'})
