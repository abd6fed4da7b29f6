"""Request and response models of the REST API (/api/v1): what the OpenAPI document declares.

Names are Italian like the resources. Identifiers are bounded positive integers, dates ISO 8601
(aaaa-mm-gg) and free-form case data (`dati`) is an object validated by the transition's own declared model.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import MOTIVO_MAX, SINGLE_LINE_MAX
from domain.diary import PARTICIPANTS_MAX
from domain.diary import TEXT_MAX as DIARY_TEXT_MAX

MAX_ID = 2**31 - 1  # the ids are 32-bit integers in the database
CaseId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
"""An id in a page's or the API's path: past the integer range it names nothing (404)."""
# efficacy dates before 2000 or after 2100 are typing errors (and would not fit every backend's timestamps)
EffectiveDay = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
Name = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ----------------------------------------------------------------------------- errors


class ErroreCampo(_Out):
    campo: str = Field(description="Percorso del campo (es. «obiettivi.0.indicatore»); vuoto se riguarda la richiesta")
    etichetta: str = Field(description="Nome leggibile del campo")
    messaggio: str = Field(description="Motivo in italiano")


class Errore(_Out):
    detail: str = Field(description="Messaggio in italiano")
    errori: list[ErroreCampo] = Field(default_factory=list)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Errore, "description": "Autenticazione richiesta (HTTP Basic o sessione)"},
    403: {"model": Errore, "description": "Accesso negato (fuori ambito, ruolo non ammesso, token CSRF mancante)"},
    404: {"model": Errore, "description": "Caso o risorsa inesistente"},
    409: {"model": Errore, "description": "Il caso è stato modificato nel frattempo (versione attesa superata)"},
    413: {"model": Errore, "description": "Richiesta troppo grande"},
    422: {"model": Errore, "description": "Dati non validi: gli errori nominano il campo, in italiano"},
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: ERROR_RESPONSES[code] for code in codes}


# ----------------------------------------------------------------------------- case types


class Stato(_Out):
    nome: str
    etichetta: str
    terminale: bool
    sospeso: bool


class TransizioneDichiarata(_Out):
    nome: str
    etichetta: str
    da: list[str] = Field(description="Stati di partenza (vuoto: apre un caso)")
    a: str
    ruoli: list[str]
    apertura: bool
    richiede_motivo: bool
    automatica: bool


class Tipologia(_Out):
    codice: str
    etichetta: str


class TipoCaso(_Out):
    tipo: str
    etichetta: str
    descrizione: str
    distrettuale: bool = Field(description="Atto di distretto senza comune né persona (es. un bando)")
    tipologie: list[Tipologia]
    stati: list[Stato]
    transizioni: list[TransizioneDichiarata]


# ----------------------------------------------------------------------------- cases


class CasoInElenco(_Out):
    id: int
    tipo: str
    tipologia: str | None = None
    stato: str
    stato_etichetta: str
    comune: str | None = None
    sub_ambito: str | None = None
    assegnatario: str | None = None
    aperto_il: date
    prossima_scadenza: date | None = None
    in_ritardo: bool


class Persona(_Out):
    cognome: str
    nome: str
    codice_fiscale: str


class CampoDiscordante(_Out):
    campo: str
    etichetta: str
    in_archivio: str
    indicato: str


class DiscrepanzaAnagrafica(_Out):
    caso: int = Field(description="Il caso aperto con i dati discordanti")
    sub_ambito: str | None
    registrata_il: str
    campi: list[CampoDiscordante]


PERSONA_NOTA = Field(default=None, description="Se la persona è nota ai servizi in casi che l'utente non può "
                                               "consultare: a chi rivolgersi (nient'altro)")


class PassoStoria(_Out):
    seq: int
    transizione: str
    etichetta: str
    da: str | None = None
    a: str
    attore: str
    ruolo: str
    registrato_il: str
    efficace_il: str
    motivo: str | None = None
    dati: dict[str, Any] = Field(default_factory=dict)


class Scadenza(_Out):
    tipo: str
    etichetta: str
    scadenza: date
    base: str
    fonte: str
    stato: str
    chiusa_il: date | None = None
    in_ritardo: bool
    rispettata: bool | None = None
    giorni_sospensione: int = 0


class ProssimaTransizione(_Out):
    transizione: str
    etichetta: str
    ruoli: list[str]


class DettaglioCaso(_Out):
    id: int
    tipo: str
    tipo_etichetta: str
    tipologia: str | None = None
    stato: str
    stato_etichetta: str
    terminale: bool
    comune: str | None = None
    comune_istat: str | None = None
    sub_ambito: str | None = None
    persona: Persona | None = Field(default=None, description="Assente se i dati anagrafici sono riservati al ruolo")
    persona_nota: str | None = PERSONA_NOTA
    discrepanze_anagrafiche: list[DiscrepanzaAnagrafica] = Field(
        default_factory=list, description="Dati anagrafici indicati in altre segnalazioni e diversi da quelli in "
                                          "archivio, da verificare (solo a chi conosce i dati in archivio)")
    assegnatario: str | None = None
    ente: str | None = None
    caso_collegato: int | None = None
    versione_politica: str
    aperto_il: date
    esito: str | None = None
    motivo_esito: str | None = None
    versione: int = Field(description="Da rimandare come «versione_attesa» per evitare modifiche concorrenti")
    dati: dict[str, Any] = Field(description="Solo i campi che il ruolo può vedere")
    storia: list[PassoStoria]
    scadenze: list[Scadenza]
    prossime_transizioni: list[ProssimaTransizione]
    dati_riservati: list[str] = Field(description="Classi di dati tolte per il ruolo")


class AperturaCaso(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Apertura di un caso")

    tipo: Name = Field(title="Tipo di caso", description="es. patto, sad_caso, fna_domanda")
    comune_istat: str | None = Field(default=None, title="Comune (codice ISTAT)", pattern=r"^[0-9]{6}$")
    transizione: Name | None = Field(default=None, title="Transizione di apertura",
                                     description="Se omessa, la prima transizione di apertura del tipo")
    tipologia: str | None = Field(default=None, title="Tipologia", min_length=1, max_length=40)
    caso_collegato: CaseId | None = Field(default=None, title="Caso collegato",
                                          description="es. il bando di una domanda FNA")
    efficace_il: EffectiveDay | None = Field(default=None, title="Efficace il")
    motivo: str | None = Field(default=None, title="Motivo", max_length=MOTIVO_MAX)
    dati: dict[str, Any] = Field(default_factory=dict, title="Dati",
                                 description="Secondo lo schema dei dati della transizione di apertura")


class CasoAperto(_Out):
    id: int
    tipo: str
    stato: str
    stato_etichetta: str
    versione: int
    url: str
    persona_nota: str | None = PERSONA_NOTA


class TransizionePossibile(_Out):
    nome: str
    etichetta: str
    a: str
    a_etichetta: str
    richiede_motivo: bool
    schema_dati: dict[str, Any] | None = Field(
        description="JSON Schema dei dati richiesti (dal modello dichiarato); null se non servono dati")


class Esecuzione(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Esecuzione di una transizione")

    dati: dict[str, Any] = Field(default_factory=dict, title="Dati")
    motivo: str | None = Field(default=None, title="Motivo", max_length=MOTIVO_MAX)
    efficace_il: EffectiveDay | None = Field(default=None, title="Efficace il")
    versione_attesa: CaseId | None = Field(default=None, title="Versione attesa",
                                           description="La «versione» letta: se il caso è cambiato, 409")


class EsitoTransizione(_Out):
    caso: int
    transizione: str
    seq: int = Field(description="Numero del passo nella storia del caso")
    stato: str
    stato_etichetta: str
    versione: int


# ----------------------------------------------------------------------------- deadlines


class ScadenzaAperta(_Out):
    id: int
    caso: int
    tipo_caso: str
    stato_caso: str
    comune: str | None = None
    assegnatario: str | None = None
    tipo: str
    etichetta: str
    scadenza: date
    fonte: str
    in_ritardo: bool
    giorni: int = Field(description="Giorni alla scadenza (negativi: in ritardo)")


# ----------------------------------------------------------------------------- indicators


class Cella(_Out):
    valore: float | None = None
    n: int | None = None
    soppresso: bool = Field(description="Nascosta: riguarda meno persone della soglia di riservatezza")


class RigaCella(Cella):
    chiave: str
    obiettivo: dict[str, Any] | None = Field(
        default=None, description="Per sub-ambito: il suo range (scritto per il sub-ambito o ripartito per "
                                  "popolazione), l'esito e la proiezione a fine anno")


class Indicatore(_Out):
    codice: str
    etichetta: str
    gruppo: str | None = None
    tipo_caso: str | None = None
    unita: str
    totale: Cella
    righe: list[RigaCella]
    obiettivo: dict[str, Any] | None = None


class Indicatori(_Out):
    anno: int
    al: date
    sub_ambito: str | None = Field(default=None, description="Se indicato, le righe sono solo di quel sub-ambito")
    per: str = Field(default="sub_ambito", description="La ripartizione delle righe: sub_ambito, distretto, "
                                                       "ente_gestore")
    soglia_riservatezza: int
    indicatori: list[Indicatore]
    scadenze: list[dict[str, Any]]
    arretrato: list[dict[str, Any]]
    intervalli: list[dict[str, Any]]
    intervalli_stati: list[dict[str, Any]]


class NuovaVoceDiario(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Nuova voce del diario")

    tipo: str = Field(title="Tipo di voce", max_length=40,
                      description="colloquio, visita_domiciliare, telefonata, relazione, riunione_equipe, o un tipo "
                                  "proprio del tipo di caso")
    avvenuto_il: str = Field(title="Data e ora del contatto", max_length=40,
                             description="gg/mm/aaaa hh:mm o ISO 8601 (ora di Roma se senza fuso); non nel futuro")
    partecipanti: list[Annotated[str, Field(max_length=SINGLE_LINE_MAX)]] = Field(
        default_factory=list, title="Partecipanti", max_length=PARTICIPANTS_MAX)
    testo: str = Field(title="Testo", max_length=DIARY_TEXT_MAX)
    classe: str = Field(default="sociale", title="Classe del dato", max_length=20,
                        description="sociale o sanitaria (cifrata, letture registrate)")
    rettifica_di: CaseId | None = Field(default=None, title="Rettifica della voce",
                                        description="Il numero della voce che questa corregge (che resta)")


class VoceDiario(_Out):
    caso: int
    numero: int = Field(description="Numero della voce nel diario del caso")
    tipo: str
    tipo_etichetta: str
    avvenuto_il: datetime
    partecipanti: list[str]
    testo: str
    classe: str = Field(description="sociale | sanitaria")
    autore: str
    ruolo_autore: str
    registrato_il: datetime
    rettifica_di: int | None = None
    rettificata_da: int | None = None


class VoceRegistrata(_Out):
    caso: int
    numero: int
    url: str


# ----------------------------------------------------------------------------- documents (services/documents.py)


class FirmaDocumento(_Out):
    formato: str | None = Field(default=None, description="PAdES | CAdES")
    integra: bool | None = Field(default=None, description="false: il documento è stato alterato dopo la firma")
    firmatario: str | None = None
    codice_fiscale: str | None = None
    data: datetime | None = None
    fiducia: str | None = Field(default=None, description="«non verificata» senza un elenco di CA fidate")
    dettaglio: str | None = None


class Documento(_Out):
    id: int
    caso: int
    tipo: str
    tipo_etichetta: str
    origine: str = Field(description="caricato | generato")
    atto: str | None = None
    nome_file: str
    tipo_file: str = Field(description="Tipo letto dal contenuto al caricamento")
    dimensione: int
    sha256: str = Field(description="Impronta SHA-256 del file")
    classe: str = Field(description="sociale | sanitario")
    protocollo_numero: str | None = None
    protocollo_data: date | None = None
    caricato_da: str
    caricato_il: datetime
    firma: FirmaDocumento | None = None


class DocumentoRegistrato(_Out):
    caso: int
    documento: int
    url: str
