"""`legami case riassegna|trasferisci|consegna` and `legami sostituti list|add|end`: hand-over, transfers and
deputies (DOMAIN.md §13), as the --actor user, through the same service calls as the pages and the API
(services/handover.py). No rule here."""
from __future__ import annotations

from typing import Optional

import typer

from cli.cases import ActorOpt, case_app
from cli.common import JsonOpt, engine, principal, print_json, run, say, table
from cli.italian import Typer

CaseArg = typer.Argument(..., metavar="CASO", help="Numero del caso.")
ReasonOpt = typer.Option(..., "--motivo", help="Perché il caso passa di mano (obbligatorio).")


def _now():
    from services.cases import now_rome

    return now_rome()


@case_app.command("riassegna")
def reassign(case_id: int = CaseArg, actor: str = ActorOpt,
             to: str = typer.Option(..., "--a", metavar="UTENTE", help="Nuovo assegnatario (assistente sociale del "
                                                                        "sub-ambito del caso)."),
             reason: str = ReasonOpt, as_json: bool = JsonOpt) -> None:
    """Riassegna il caso (in qualsiasi stato aperto) a un'altra assistente sociale; entrambe ricevono un'e-mail."""
    from services.handover import reassign as do

    seq = run(lambda: do(engine(), principal(actor), case_id, {"nuovo_assegnatario": to, "motivo": reason},
                         now=_now()))
    if as_json:
        print_json({"caso": case_id, "passo": seq, "assegnatario": to})
    else:
        say(f"Caso {case_id} riassegnato a {to} (passo {seq}).")


@case_app.command("trasferisci")
def transfer(case_id: int = CaseArg, actor: str = ActorOpt,
             comune: str = typer.Option(..., "--comune", help="Nuovo comune (codice ISTAT o nome), di un altro "
                                                              "sub-ambito."),
             reason: str = ReasonOpt, as_json: bool = JsonOpt) -> None:
    """Trasferisce il caso in un comune di un altro sub-ambito: il nuovo sub-ambito lo riceve non assegnato,
    i due coordinatori ricevono un'e-mail, la storia resta."""
    from services.handover import transfer as do

    seq = run(lambda: do(engine(), principal(actor), case_id, {"nuovo_comune": comune, "motivo": reason},
                         now=_now()))
    if as_json:
        print_json({"caso": case_id, "passo": seq, "comune": comune})
    else:
        say(f"Caso {case_id} trasferito a {comune} (passo {seq}).")


def _per_case(pairs: list[str]) -> dict[int, str]:
    found = {}
    for pair in pairs:
        number, _, user = pair.partition("=")
        if not number.strip().isdigit() or not user.strip():
            raise ValueError(f"--caso: «{pair}» non è nella forma NUMERO=UTENTE")
        found[int(number)] = user.strip()
    return found


@case_app.command("consegna")
def hand_over(worker: str = typer.Argument(..., metavar="ASSEGNATARIO", help="L'assistente sociale che consegna."),
              actor: str = ActorOpt,
              to: Optional[str] = typer.Option(None, "--a", metavar="UTENTE", help="Nuovo assegnatario per tutti."),
              per_case: list[str] = typer.Option([], "--caso", metavar="N=UTENTE",
                                                 help="Nuovo assegnatario di un caso (prevale su --a); ripetibile.",
                                                 show_default=False),
              reason: Optional[str] = typer.Option(None, "--motivo", help="Obbligatorio con --conferma."),
              confirm: bool = typer.Option(False, "--conferma", help="Esegue la consegna (senza: solo anteprima)."),
              as_json: bool = JsonOpt) -> None:
    """Consegna tutti i casi aperti di un'assistente sociale: senza --conferma mostra l'anteprima (caso per caso,
    con il nuovo assegnatario e gli impedimenti), con --conferma li riassegna tutti insieme."""
    from services import handover

    def go():
        raw = {"a_tutti": to, "per_caso": _per_case(per_case), "motivo": reason}
        fn = handover.handover_confirm if confirm else handover.handover_preview
        return fn(engine(), principal(actor), worker, raw, now=_now())

    result = run(go)
    if as_json:
        print_json(result)
    elif confirm:
        say(f"Consegna eseguita: {len(result)} casi riassegnati.")
    else:
        rows = [{"caso": c["caso"], "tipo": c["tipo_etichetta"], "stato": c["stato_etichetta"],
                 "a": c["nuovo_assegnatario"] or "", "esito": c["problema"] or "pronto"} for c in result["casi"]]
        if rows:
            table(rows, [("caso", "caso"), ("tipo", "tipo"), ("stato", "stato"), ("a", "nuovo assegnatario"),
                         ("esito", "esito")])
        say("Anteprima: nulla è stato scritto." + (" Ripetere con --conferma e --motivo." if result["pronto"] else ""))


deputy_app = Typer(help="Sostituti: chi procede sui casi di un'assistente sociale assente, per un periodo "
                        "(come l'utente indicato da --actor).", no_args_is_help=True)


@deputy_app.command("list")
def deputies_list(actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """Le sostituzioni in corso o future del sub-ambito."""
    from services.handover import deputies

    rows = run(lambda: deputies(engine(), principal(actor), now=_now()))
    if as_json:
        print_json(rows)
    elif not rows:
        say("Nessuna sostituzione in corso o prevista.")
    else:
        table([{**r, "stato": "in corso" if r["in_corso"] else "da iniziare"} for r in rows],
              [("id", "n."), ("assegnatario", "sostituita"), ("sostituto", "sostituto"), ("dal", "dal"),
               ("al", "al"), ("stato", "stato")])


@deputy_app.command("add")
def deputies_add(actor: str = ActorOpt,
                 worker: str = typer.Option(..., "--assegnatario", help="L'assistente sociale sostituita."),
                 deputy: str = typer.Option(..., "--sostituto", help="Chi la sostituisce (stesso sub-ambito)."),
                 start: str = typer.Option(..., "--dal", metavar="DATA", help="gg/mm/aaaa"),
                 end: str = typer.Option(..., "--al", metavar="DATA", help="gg/mm/aaaa, non prima di --dal."),
                 reason: Optional[str] = typer.Option(None, "--motivo", help="Ferie, malattia, …"),
                 as_json: bool = JsonOpt) -> None:
    """Nomina un sostituto per il periodo: procede sui casi dell'assistente sociale sostituita, ogni passo
    registra entrambi i nomi; entrambi ricevono un'e-mail."""
    from services.handover import name_deputy

    new_id = run(lambda: name_deputy(engine(), principal(actor), {
        "assegnatario": worker, "sostituto": deputy, "dal": start, "al": end, "motivo": reason}, now=_now()))
    if as_json:
        print_json({"id": new_id})
    else:
        say(f"Sostituzione n. {new_id} registrata.")


@deputy_app.command("end")
def deputies_end(deputyship_id: int = typer.Argument(..., metavar="ID", help="Numero della sostituzione."),
                 actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """Chiude una sostituzione: da oggi il sostituto non procede più sui casi."""
    from services.handover import end_deputy

    run(lambda: end_deputy(engine(), principal(actor), deputyship_id, now=_now()))
    if as_json:
        print_json({"id": deputyship_id, "chiusa": True})
    else:
        say(f"Sostituzione n. {deputyship_id} chiusa.")
