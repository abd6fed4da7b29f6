"""The Ufficio di Piano's SIUSS page: the flows to INPS's Casellario dell'Assistenza, their content counts and
outcomes, and the download of each flow's XML. Access and everything else are the service's (services/siuss.py)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.siuss import flow_xml, flows_view, mapping_note, sina_unmapped
from web.api_models import IdPath
from web.deps import CurrentUser, current_user, services
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/siuss")
async def siuss_page(request: Request, user: CurrentUser = Depends(current_user)):
    rows = flows_view(services(request).engine, user.principal)
    return render(request, "siuss/flussi.html", {"titolo": "Casellario dell'Assistenza (SIUSS)", "flussi": rows,
                                                 "sina": sina_unmapped(), "mappatura": mapping_note()})


@router.get("/siuss/flussi/{flow_id}/xml")
async def siuss_download(request: Request, flow_id: IdPath, user: CurrentUser = Depends(current_user)):
    name, xml = flow_xml(services(request).engine, user.principal, flow_id)
    return Response(xml, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xml"'})
