"""The REST API of hand-over, deputies and transfers (/api/v1, DOMAIN.md §13): thin routes over services/handover.py,
same authentication, Italian validation and error shapes as web/routes/api.py. Who may: domain/access.py."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import MOTIVO_MAX
from services import handover
from web import api_models as m
from web.routes.api import _SECURITY, PREFIX, CaseIdPath, ItalianValidationRoute, Svc, User

router = APIRouter(prefix=PREFIX, tags=["API v1"], route_class=ItalianValidationRoute, dependencies=_SECURITY,
                   responses=m.errors(401))

Username = Annotated[str, Field(min_length=1, max_length=80)]
Motivo = Annotated[str, Field(title="Motivo", max_length=MOTIVO_MAX)]
DeputyIdPath = Annotated[int, Path(ge=1, le=m.MAX_ID, description="Numero della sostituzione")]


class Riassegnazione(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Riassegnazione di un caso")
    nuovo_assegnatario: Username = Field(title="Nuovo assegnatario", description="Utente di un'assistente sociale "
                                                                                  "del sub-ambito del caso")
    motivo: Motivo = Field(description="Obbligatorio: perché il caso passa di mano")


class Trasferimento(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Trasferimento di un caso ad altro sub-ambito")
    nuovo_comune: str = Field(title="Nuovo comune", max_length=120, description="Codice ISTAT o nome del comune")
    motivo: Motivo = Field(description="Obbligatorio (es. cambio di residenza)")


class Consegna(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Consegna di tutti i casi aperti di un'assistente sociale")
    assegnatario: Username = Field(title="Assistente sociale che consegna")
    a_tutti: Username | None = Field(default=None, title="Nuovo assegnatario per tutti")
    per_caso: dict[Annotated[int, Field(ge=1, le=m.MAX_ID)], Username] = Field(
        default_factory=dict, max_length=1000, title="Nuovo assegnatario per caso",
        description="Numero del caso → utente; prevale su «a_tutti»")
    motivo: Motivo | None = Field(default=None, description="Obbligatorio per confermare, non per l'anteprima")


class NuovoSostituto(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Nomina di un sostituto")
    assegnatario: Username = Field(title="Assistente sociale sostituito")
    sostituto: Username = Field(title="Sostituto", description="Un'altra assistente sociale dello stesso sub-ambito")
    dal: str = Field(title="Dal", max_length=20, description="gg/mm/aaaa")
    al: str = Field(title="Al", max_length=20, description="gg/mm/aaaa, non prima di «dal» né già passato")
    motivo: Motivo | None = None


class PassoRegistrato(BaseModel):
    caso: int
    passo: int


class CasoInConsegna(BaseModel):
    caso: int
    tipo: str
    tipo_etichetta: str
    stato: str
    stato_etichetta: str
    comune: str | None
    persona: str | None
    nuovo_assegnatario: str | None
    nuovo_assegnatario_nome: str | None
    problema: str | None


class AnteprimaConsegna(BaseModel):
    assegnatario: str
    assegnatario_nome: str
    casi: list[CasoInConsegna]
    pronto: bool


class CasoConsegnato(BaseModel):
    caso: int
    nuovo_assegnatario: str
    passo: int


class Sostituzione(BaseModel):
    id: int
    assegnatario: str
    assegnatario_nome: str
    sostituto: str
    sostituto_nome: str
    dal: str
    al: str
    in_corso: bool
    motivo: str | None
    nominato_da: str


class SostitutoNominato(BaseModel):
    id: int


@router.post("/casi/{caso_id}/riassegnazione", response_model=PassoRegistrato, responses=m.errors(403, 404, 409, 422),
             summary="Riassegna il caso", description="Il coordinatore di sub-ambito passa il caso (in qualsiasi stato "
             "aperto) a un'altra assistente sociale del sub-ambito; entrambe ricevono un'e-mail; il passo resta nella "
             "storia del caso.")
def reassign(caso_id: CaseIdPath, body: Riassegnazione, user: User, svc: Svc) -> dict[str, Any]:
    seq = handover.reassign(svc.engine, user.principal, caso_id, body.model_dump(), now=svc.clock())
    return {"caso": caso_id, "passo": seq}


@router.post("/casi/{caso_id}/trasferimento", response_model=PassoRegistrato,
             responses=m.errors(403, 404, 409, 422), summary="Trasferisce il caso ad altro sub-ambito",
             description="Il coordinatore del sub-ambito (o l'Ufficio di Piano) sposta il caso nel comune di un altro "
                         "sub-ambito: il vecchio sub-ambito lo perde, il nuovo lo riceve non assegnato; entrambi i "
                         "coordinatori ricevono un'e-mail; la storia resta.")
def transfer(caso_id: CaseIdPath, body: Trasferimento, user: User, svc: Svc) -> dict[str, Any]:
    seq = handover.transfer(svc.engine, user.principal, caso_id, body.model_dump(), now=svc.clock())
    return {"caso": caso_id, "passo": seq}


@router.post("/consegne/anteprima", response_model=AnteprimaConsegna, responses=m.errors(403, 422),
             summary="Anteprima della consegna dei casi", description="I casi aperti dell'assistente sociale che il "
             "coordinatore può riassegnare, ciascuno con il nuovo assegnatario e l'eventuale impedimento. Non scrive "
             "nulla.")
def handover_preview(body: Consegna, user: User, svc: Svc) -> dict[str, Any]:
    return handover.handover_preview(svc.engine, user.principal, body.assegnatario, body.model_dump(),
                                     now=svc.clock())


@router.post("/consegne", response_model=list[CasoConsegnato], responses=m.errors(403, 409, 422),
             summary="Conferma la consegna dei casi", description="Riassegna tutti i casi dell'anteprima insieme "
             "(tutti o nessuno); il motivo è obbligatorio.")
def handover_confirm(body: Consegna, user: User, svc: Svc) -> list[dict[str, Any]]:
    return handover.handover_confirm(svc.engine, user.principal, body.assegnatario, body.model_dump(),
                                     now=svc.clock())


@router.get("/sostituti", response_model=list[Sostituzione], responses=m.errors(403), summary="Sostituzioni",
            description="Le sostituzioni in corso o future del sub-ambito del coordinatore (l'Ufficio di Piano: "
                        "tutto il distretto).")
def deputies(user: User, svc: Svc) -> list[dict[str, Any]]:
    return handover.deputies(svc.engine, user.principal, now=svc.clock())


@router.post("/sostituti", status_code=201, response_model=SostitutoNominato, responses=m.errors(403, 422),
             summary="Nomina un sostituto", description="Per il periodo indicato il sostituto procede sui casi "
             "dell'assistente sociale sostituita; ogni passo registra entrambi i nomi. Entrambi ricevono un'e-mail.")
def name_deputy(body: NuovoSostituto, user: User, svc: Svc) -> dict[str, Any]:
    return {"id": handover.name_deputy(svc.engine, user.principal, body.model_dump(), now=svc.clock())}


@router.post("/sostituti/{sostituzione_id}/fine", status_code=204, responses=m.errors(403, 404, 422),
             summary="Chiude una sostituzione", description="La sostituzione finisce ieri: da oggi il sostituto non "
             "procede più sui casi; resta nell'elenco.")
def end_deputy(sostituzione_id: DeputyIdPath, user: User, svc: Svc) -> None:
    handover.end_deputy(svc.engine, user.principal, sostituzione_id, now=svc.clock())
