"""`legami keys new|rotate`: the keys of the sealed health data (store/sealed.py). Administrative commands.

Rotation: `legami keys new` prints a fresh key; put it FIRST in LEGAMI_HEALTH_KEYS (keeping the old ones after
it), run `legami keys rotate` (every sealed part re-encrypted with the first key), then remove the old keys.
"""
from __future__ import annotations

import re

import typer

from cli.common import ADMIN, JsonOpt, engine, fail, print_json, run, say
from cli.italian import Typer

keys_app = Typer(help="Chiavi dei dati sanitari cifrati: nuova chiave, rotazione.", no_args_is_help=True)


@keys_app.command("new", help="Stampa una nuova chiave (256 bit) nel formato di LEGAMI_HEALTH_KEYS (id:base64): "
                              "metterla per prima in LEGAMI_HEALTH_KEYS, poi `legami keys rotate`.")
def new(key_id: str = typer.Option(..., "--id", help="nome della chiave (lettere, cifre, - e _), ad es. 2027-01")
        ) -> None:
    from store.sealed import new_key_entry

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", key_id):
        fail("--id: solo lettere, cifre, - e _ (al più 40 caratteri)")
    typer.echo(new_key_entry(key_id))


@keys_app.command("rotate", help="Cifra di nuovo con la chiave corrente (la prima di LEGAMI_HEALTH_KEYS) ogni dato "
                                 "sanitario cifrato con un'altra chiave; al termine le chiavi precedenti si possono "
                                 f"togliere da LEGAMI_HEALTH_KEYS. Ripetibile: riprende da dove si è fermato. {ADMIN}")
def rotate(as_json: bool = JsonOpt) -> None:
    from store.health_store import key_counts, reseal_all
    from store.sealed import keyring

    ring = run(keyring)
    resealed = run(lambda: reseal_all(engine(), ring))
    from store.documents import reseal_files  # the health documents' files (store/documents.py)

    resealed += run(lambda: reseal_files(engine(), ring))
    counts = key_counts(engine())
    result = {"chiave_corrente": ring.current, "ricifrati": resealed, "per_chiave": counts}
    if as_json:
        print_json(result)
        return
    say(f"Chiave corrente «{ring.current}»: {resealed} dati sanitari cifrati di nuovo; "
               f"ora {counts.get(ring.current, 0)} sotto la chiave corrente.")
    old = sorted(k for k in ring.keys if k != ring.current)
    if old and not set(counts) - {ring.current}:
        say(f"Le chiavi {', '.join(old)} non servono più: si possono togliere da LEGAMI_HEALTH_KEYS.")
