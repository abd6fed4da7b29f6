"""`legami user ...`: accounts (the first administrator, passwords, unlocking)."""
from __future__ import annotations

from typing import Optional

import typer

from cli.common import engine, fail, run, say
from cli.italian import Typer

user_app = Typer(help="Utenze: amministratore, password, sblocco, disabilitazione.", no_args_is_help=True)

PasswordOpt = typer.Option(None, "--password", help="Chiesta a video se omessa (almeno 12 caratteri).")


def ask_password(given: Optional[str]) -> str:
    """The password given with --password, or asked twice without echo (Italian prompts, Italian refusal)."""
    if given is not None:
        return given
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Ripeti la password", hide_input=True) != first:
        fail("le due password non coincidono: nulla è stato modificato")
    return first


@user_app.command("create-admin")
def user_create_admin(
    username: str = typer.Argument(..., metavar="UTENTE"),
    email: str = typer.Option(..., "--email"),
    full_name: str = typer.Option("Amministratore", "--nome"),
    password: Optional[str] = PasswordOpt,
) -> None:
    """Crea il primo amministratore (gestisce le utenze; non apre fascicoli: ruolo «evaluator»)."""
    from services.auth import create_admin

    secret = ask_password(password)
    run(lambda: create_admin(engine(), username, email, secret, full_name=full_name))
    say(f"Amministratore «{username}» creato.")


@user_app.command("create")
def user_create(
    username: str = typer.Argument(..., metavar="UTENTE"),
    full_name: str = typer.Option(..., "--nome"),
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(..., "--ruolo", help="social_worker, subarea_coordinator, planning_office, ..."),
    sub_ambito: Optional[str] = typer.Option(None, "--sub-ambito"),
    provider: Optional[str] = typer.Option(None, "--ente"),
    with_password: bool = typer.Option(False, "--con-password", help="Chiede subito una password locale."),
    ambito: Optional[str] = typer.Option(None, "--ambito", help="Codice dell'Ambito dell'utente (predefinito: "
                                                                "quello del sub-ambito o dell'ente, altrimenti "
                                                                "l'Ambito predefinito)."),
    ente_gestore: Optional[str] = typer.Option(None, "--ente-gestore", metavar="CODICE",
                                               help="Per il personale amministrativo (csc_admin): l'ente gestore "
                                                    "(azienda speciale, consorzio) di cui fa parte."),
) -> None:
    """Crea un'utenza (la password si può impostare dopo con «user set-password»)."""
    from services.auth import create_user

    password = ask_password(None) if with_password else None
    run(lambda: create_user(engine(), username, full_name, email, role, sub_ambito=sub_ambito,
                            provider_codice=provider, password=password, ambito=ambito,
                            ente_gestore=ente_gestore))
    say(f"Utente «{username}» creato.")


@user_app.command("set-password")
def user_set_password(username: str = typer.Argument(..., metavar="UTENTE"),
                      password: Optional[str] = PasswordOpt) -> None:
    """Imposta o reimposta la password locale di un utente (ne toglie il blocco e chiude le sue sessioni)."""
    from services.auth import set_password

    secret = ask_password(password)
    run(lambda: set_password(engine(), username, secret))
    say(f"Password di «{username}» aggiornata; le sue sessioni aperte sono state chiuse.")


@user_app.command("unlock")
def user_unlock(username: str = typer.Argument(..., metavar="UTENTE")) -> None:
    """Toglie il blocco per tentativi di accesso falliti."""
    from services.auth import unlock

    run(lambda: unlock(engine(), username))
    say(f"Accesso di «{username}» sbloccato.")


@user_app.command("disable")
def user_disable(username: str = typer.Argument(..., metavar="UTENTE")) -> None:
    """Disabilita un'utenza: non accede più e le sue sessioni aperte si chiudono subito (lo storico resta)."""
    from services.auth import disable_user

    run(lambda: disable_user(engine(), username))
    say(f"Utente «{username}» disabilitato; le sue sessioni aperte sono state chiuse.")


@user_app.command("enable")
def user_enable(username: str = typer.Argument(..., metavar="UTENTE")) -> None:
    """Riabilita un'utenza disabilitata (accede con la password che aveva)."""
    from services.auth import enable_user

    run(lambda: enable_user(engine(), username))
    say(f"Utente «{username}» riabilitato.")
