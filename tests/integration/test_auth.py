"""Authentication on SQLite and PostgreSQL: argon2id hashes, lockout with an injected clock, messages that
never say whether a user exists, the first administrator, and the adapter point for SPID/CIE/OIDC."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from domain.access import AccessDenied
from domain.workflow import Role
from services.access import authorize_read
from services.auth import (
    DEFAULT_HASHER,
    INVALID_CREDENTIALS,
    UNKNOWN_IDENTITY,
    AccountError,
    AuthenticationFailed,
    ExternalIdentityProvider,
    IdentityProvider,
    LocalPasswordProvider,
    LockoutPolicy,
    authenticate,
    create_admin,
    create_user,
    link_identity,
    login,
    set_password,
    unlock,
    use_password_hasher,
)
from store.auth_tables import login_throttle_t, user_credential_t
from store.tables import AppUser

from .patto_steps import open_patto

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PASSWORD = "cavallo-batteria-graffetta"
LOCKED_TEXT = "accesso sospeso per 15 minuti"


@pytest.fixture(autouse=True)
def _fast_hashes(fast_hashes):
    """Every test here hashes with tests/conftest.py's cheap argon2id."""


@pytest.fixture
def accounts(engine):
    with engine.begin() as conn:
        conn.execute(login_throttle_t.delete())  # not emptied by the PostgreSQL fixture until patched
    create_user(engine, "as.galli", "Laura Galli", "as.galli@example.org", Role.SOCIAL_WORKER, sub_ambito="Crema",
                password=PASSWORD, now=T0)
    return engine


def message(engine, username, password, now=T0) -> str:
    with pytest.raises(AuthenticationFailed) as err:
        authenticate(engine, username, password, now)
    return str(err.value)


def test_the_right_password_gives_the_principal_of_the_user(accounts):
    principal = authenticate(accounts, "as.galli", PASSWORD, T0)
    assert (principal.username, principal.role, principal.sub_ambito) == ("as.galli", Role.SOCIAL_WORKER, "Crema")
    assert "019035" in principal.comuni and not principal.is_admin


def test_passwords_are_stored_as_argon2id_hashes_and_never_in_clear(accounts):
    create_user(accounts, "as.conti", "Pia Conti", "as.conti@example.org", "social_worker", sub_ambito="Crema",
                password=PASSWORD)
    with accounts.connect() as conn:
        creds = conn.execute(sa.select(user_credential_t)).all()
        users = conn.execute(sa.select(AppUser.__table__)).all()
        throttle = conn.execute(sa.select(login_throttle_t)).all()
    hashes = [c.password_hash for c in creds if c.password_hash]
    assert len(hashes) == 2 and len(set(hashes)) == 2  # same password, different salts
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PasswordHasher().verify(h, PASSWORD) for h in hashes)
    stored = " ".join(str(v) for row in (*creds, *users, *throttle) for v in row)
    assert PASSWORD not in stored


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(accounts, engine):
    from services.setup import ensure_user

    with engine.begin() as conn:  # a user with no local password yet, and a disabled one
        ensure_user(conn, "as.senzapw", "Senza Password", "s@example.org", "social_worker", "Crema")
    create_user(engine, "as.uscita", "Ex Collega", "x@example.org", "social_worker", sub_ambito="Crema",
                password=PASSWORD)
    with engine.begin() as conn:
        conn.execute(AppUser.__table__.update().where(AppUser.__table__.c.username == "as.uscita")
                     .values(active=False))
    messages = {
        message(accounts, "as.galli", "password-sbagliata"),
        message(accounts, "nessuno.mai", "password-sbagliata"),
        message(accounts, "as.senzapw", PASSWORD),
        message(accounts, "as.uscita", PASSWORD),
        message(accounts, "as.galli", ""),
    }
    assert messages == {INVALID_CREDENTIALS}
    assert INVALID_CREDENTIALS == "nome utente o password non corretti"


def test_five_failures_lock_the_user_out_for_fifteen_minutes_even_with_the_right_password(accounts):
    for minute in range(4):
        assert message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=minute)) == INVALID_CREDENTIALS
    assert LOCKED_TEXT in message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=4))
    locked_at = T0 + timedelta(minutes=4)
    assert LOCKED_TEXT in message(accounts, "as.galli", PASSWORD, locked_at + timedelta(minutes=1))
    assert LOCKED_TEXT in message(accounts, "as.galli", PASSWORD, locked_at + timedelta(minutes=14, seconds=59))
    assert authenticate(accounts, "as.galli", PASSWORD, locked_at + timedelta(minutes=15)).username == "as.galli"


def test_after_the_lock_runs_out_the_count_starts_again(accounts):
    for minute in range(5):
        message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=minute))
    later = T0 + timedelta(minutes=30)
    assert message(accounts, "as.galli", "sbagliata-1234", later) == INVALID_CREDENTIALS
    assert authenticate(accounts, "as.galli", PASSWORD, later).username == "as.galli"


def test_a_success_resets_the_consecutive_failures(accounts):
    for minute in range(4):
        message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=minute))
    authenticate(accounts, "as.galli", PASSWORD, T0 + timedelta(minutes=5))
    for minute in range(4):
        when = T0 + timedelta(minutes=6 + minute)
        assert message(accounts, "as.galli", "sbagliata-1234", when) == INVALID_CREDENTIALS
    assert authenticate(accounts, "as.galli", PASSWORD, T0 + timedelta(minutes=11)).username == "as.galli"


def test_an_unknown_username_is_locked_out_exactly_like_a_real_one(accounts):
    real = [message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=m)) for m in range(6)]
    ghost = [message(accounts, "fantasma", "sbagliata-1234", T0 + timedelta(minutes=m)) for m in range(6)]
    assert real == ghost
    assert real[:4] == [INVALID_CREDENTIALS] * 4 and LOCKED_TEXT in real[4]


def test_the_lockout_thresholds_are_parameters(accounts):
    strict = LockoutPolicy(max_failures=2, lock_minutes=60)
    with pytest.raises(AuthenticationFailed, match="non corretti"):
        authenticate(accounts, "as.galli", "sbagliata-1234", T0, lockout=strict)
    with pytest.raises(AuthenticationFailed, match="accesso sospeso per 60 minuti"):
        authenticate(accounts, "as.galli", "sbagliata-1234", T0, lockout=strict)


def test_an_administrator_lifts_a_lock_and_resets_a_password(accounts):
    admin = create_admin(accounts, "admin", "admin@example.org", "una-password-lunga-e-sicura", now=T0)
    assert admin > 0
    boss = authenticate(accounts, "admin", "una-password-lunga-e-sicura", T0)
    for minute in range(5):
        message(accounts, "as.galli", "sbagliata-1234", T0 + timedelta(minutes=minute))
    unlock(accounts, "as.galli", by=boss)
    assert authenticate(accounts, "as.galli", PASSWORD, T0 + timedelta(minutes=6)).username == "as.galli"
    set_password(accounts, "as.galli", "nuova-password-robusta", by=boss)
    assert message(accounts, "as.galli", PASSWORD, T0 + timedelta(minutes=7)) == INVALID_CREDENTIALS
    later = T0 + timedelta(minutes=8)
    assert authenticate(accounts, "as.galli", "nuova-password-robusta", later).username == "as.galli"


def test_the_first_administrator_manages_accounts_but_opens_no_case_file(accounts, service):
    create_admin(accounts, "admin", "admin@example.org", "una-password-lunga-e-sicura")
    boss = authenticate(accounts, "admin", "una-password-lunga-e-sicura", T0)
    assert boss.is_admin and boss.role is Role.EVALUATOR
    case_id = open_patto(service, service.actor("as.rossi"))
    with pytest.raises(AccessDenied, match="solo dati aggregati"):
        authorize_read(accounts, boss, case_id, today=date(2026, 11, 20))
    create_user(accounts, "ente.nuovo", "Referente", "r@example.org", "provider", provider_codice="ENTE03", by=boss)
    worker = authenticate(accounts, "as.galli", PASSWORD, T0)
    with pytest.raises(AccessDenied, match="solo un amministratore"):
        create_user(accounts, "as.altro", "Altro", "a@example.org", "social_worker", sub_ambito="Crema", by=worker)
    with pytest.raises(AccessDenied, match="solo un amministratore"):
        set_password(accounts, "as.rossi", "password-rubata-123", by=worker)
    set_password(accounts, "as.galli", "la-mia-nuova-password", by=worker)  # one's own: allowed


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"password": "corta"}, "almeno 12 caratteri"),
    ({"password": "as.nuovo-2026-xyz"}, "non può contenere il nome utente"),
    ({"password": "aaaaaaaaaaaaaaaa"}, "troppo ripetitiva"),
    ({"sub_ambito": "Atlantide"}, "sub-ambito esistente"),
    ({"role": "capo"}, "ruolo «capo» sconosciuto"),
])
def test_bad_accounts_are_refused_with_an_italian_reason(accounts, kwargs, reason):
    args = {"role": "social_worker", "sub_ambito": "Crema", "password": PASSWORD, **kwargs}
    role = args.pop("role")
    with pytest.raises(AccountError, match=reason):
        create_user(accounts, "as.nuovo", "Nuovo", "n@example.org", role, **args)


def test_the_system_user_can_never_be_given_a_way_to_log_in(accounts):
    with pytest.raises(AccountError, match="l'utenza di sistema non accede con credenziali"):
        set_password(accounts, "sistema", "una-password-lunga-e-sicura")
    with pytest.raises(AccountError, match="l'utenza di sistema non accede con credenziali"):
        link_identity(accounts, "sistema", "oidc", "qualcuno")
    with pytest.raises(AccountError, match="non si crea a mano"):
        create_user(accounts, "sistema2", "S", "s@example.org", "system")
    assert message(accounts, "sistema", "una-password-lunga-e-sicura") == INVALID_CREDENTIALS


def test_a_username_cannot_be_taken_twice(accounts):
    with pytest.raises(AccountError, match="esiste già"):
        create_user(accounts, "as.galli", "Altra Galli", "g@example.org", "social_worker", sub_ambito="Crema")


def test_spid_cie_or_oidc_plug_in_as_another_identity_provider(accounts):
    link_identity(accounts, "as.galli", "spid", "glllra80a41d142x")
    spid = ExternalIdentityProvider("spid", subject_claim="fiscalNumber")
    assert isinstance(spid, IdentityProvider) and isinstance(LocalPasswordProvider(), IdentityProvider)
    principal = login(accounts, spid, {"fiscalNumber": "TINIT-GLLLRA80A41D142X"}, T0)
    assert principal.username == "as.galli" and principal.role is Role.SOCIAL_WORKER
    with pytest.raises(AuthenticationFailed) as err:
        login(accounts, spid, {"fiscalNumber": "TINIT-RSSMRA85T10A562S"}, T0)
    assert str(err.value) == UNKNOWN_IDENTITY
    with pytest.raises(AuthenticationFailed):
        login(accounts, ExternalIdentityProvider("oidc"), {"subject": "GLLLRA80A41D142X"}, T0)  # other method


def test_hashes_made_with_older_parameters_are_upgraded_at_the_next_login(accounts):
    use_password_hasher(DEFAULT_HASHER)
    authenticate(accounts, "as.galli", PASSWORD, T0)  # made with FAST_HASHER: verified, then rehashed
    with accounts.connect() as conn:
        stored = conn.execute(sa.select(user_credential_t.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert authenticate(accounts, "as.galli", PASSWORD, T0).username == "as.galli"


def _cli_has_user_commands() -> bool:
    import cli.main

    return hasattr(cli.main, "user_app")


@pytest.mark.skipif(not _cli_has_user_commands(), reason="patch cli-user-commands not applied yet")
def test_the_first_administrator_is_created_from_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine, make_engine

    monkeypatch.setenv("LEGAMI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    cached_engine.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["init"]).exit_code == 0
        secret = "una-password-lunga-e-sicura"
        made = runner.invoke(app, ["user", "create-admin", "admin", "--email", "admin@example.org"],
                             input=f"{secret}\n{secret}\n")
        assert made.exit_code == 0, made.output
        assert "Amministratore «admin» creato." in made.output
        weak = runner.invoke(app, ["user", "set-password", "admin"], input="corta\ncorta\n")
        assert weak.exit_code == 1 and "almeno 12 caratteri" in weak.output
        engine = make_engine(get_settings().database_url)
        boss = authenticate(engine, "admin", secret, T0)
        assert boss.is_admin
        with engine.connect() as conn:
            assert secret not in str(conn.execute(sa.select(user_credential_t)).all())
        engine.dispose()
    finally:
        get_settings.cache_clear()
        cached_engine.cache_clear()
