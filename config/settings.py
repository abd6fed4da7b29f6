"""The one settings class: environment variables prefixed LEGAMI_ and an optional .env file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "cambiami-solo-per-sviluppo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEGAMI_", env_file=".env", extra="ignore")

    environment: str = Field(default="development", description="development | test | production")
    database_url: str = Field(default="sqlite:///legami.db", description="SQLAlchemy URL (SQLite or PostgreSQL)")
    district_path: Path | None = Field(default=None, description="folder of another Ambito's data")
    policies_path: Path | None = Field(default=None, description="folder of policy versions (*.toml)")
    secret_key: str = DEFAULT_SECRET
    health_keys: str = Field(default="", description="keys of the sealed health data: id:base64 of 32 bytes, "
                             "comma-separated, the first encrypts (development: derived from the secret key)")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "legami@example.org"
    outbox_dir: Path = Field(default=Path("outbox"), description="where .eml files go when no SMTP is set")
    outbox_lease_seconds: float = Field(default=120.0, ge=1, le=86400,
                                        description="how long a dispatcher holds the messages it claimed; after "
                                                    "a crash they go out again once it has passed")
    prefect_home: Path = Field(default=Path(".legami/prefect"), description="embedded Prefect server's home")
    prefect_port: int = Field(default=4200, ge=0, le=65535,
                              description="port of the embedded Prefect server on 127.0.0.1 (0: any free port)")
    job_lease_seconds: float = Field(default=300.0, ge=1, le=86400,
                                     description="how long a worker holds a nightly job's partition without a "
                                                 "heartbeat; after a crash it is claimed again once it has passed")
    job_pause_seconds: float = Field(default=0.0, ge=0, le=3600,
                                     description="test hook: seconds a partition waits after its work, before it "
                                                 "is marked done (to kill a worker mid-run); 0 in production")
    job_pause_partition: str = Field(default="", max_length=200,
                                     description="test hook: the one partition that pauses, lavoro:ambito:giorno "
                                                 "(first attempt only); empty: every partition")
    job_work_pool: str = Field(default="legami", max_length=100, description="Prefect work pool of the nightly jobs")
    job_pool_concurrency: int = Field(default=2, ge=1, le=1000,
                                      description="flow runs of the work pool running at once (its concurrency limit)")
    job_ambiti_per_run: int = Field(default=1, ge=1, le=1000,
                                    description="Ambiti per flow run of the night (1: one flow run per Ambito)")
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = Field(
        default="FULL", description="SQLite: FULL keeps every acknowledged commit through a power cut")
    audit_dir: Path = Field(default=Path(".legami/audit"),
                            description="the audit chains' signed checkpoints (keep a copy off this machine)")
    base_url: str = "http://127.0.0.1:8000"
    web_threads: int = Field(default=8, ge=1, le=200,
                             description="threads of one web process for the blocking work of requests (database, "
                             "templates); few threads keep latency even under many clients (bench/api)")
    import_workers: int | None = Field(default=None, ge=0, le=64,
                                       description="processes that check a large import file's rows while the "
                                                   "load writes (0: none; unset: one fewer than the cores, at "
                                                   "most 4; files under 2,000 rows are checked without them)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024,
                                description="largest request body accepted (bytes); a larger one is refused (413)")
    documents_dir: Path | None = Field(default=None, description="where uploaded and generated documents are "
                                       "kept, content-addressed by SHA-256 (default: a «documenti» folder beside "
                                       "the SQLite file; on PostgreSQL .legami/documenti)")
    documents_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024,
                                     description="largest document accepted on upload (bytes)")
    documents_types: str = Field(default="pdf,jpeg,png,p7m",
                                 description="the kinds of file accepted on upload, detected from the content "
                                             "(comma-separated among pdf, jpeg, png, p7m, tiff, xml)")
    documents_required: bool = Field(default=True, description="a transition that declares a required document "
                                     "(e.g. the patto's activation needs the signed patto) refuses without it")
    signature_trust_dir: Path | None = Field(
        default=None, description="folder of PEM/DER root certificates trusted for digital signatures (e.g. the "
                                  "Italian qualified CAs taken from the EU trusted list); unset: trust not verified")
    import_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024,
                                  description="largest spreadsheet the import page accepts (bytes)")
    siuss_codice_ente: str | None = Field(
        default=None, max_length=32, description="SIUSS: codice dell'Ente per INPS (default: il codice catastale "
                                                 "del comune capofila)")
    siuss_denominazione_ente: str | None = Field(default=None, max_length=100,
                                                 description="SIUSS: denominazione dell'Ente (default: l'Ambito)")
    siuss_belfiore_ente: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{3}$",
                                            description="SIUSS: codice catastale della sede legale dell'Ente "
                                                        "(default: il comune capofila)")
    siuss_cf_operatore: str | None = Field(default=None, description="SIUSS: codice fiscale dell'operatore che "
                                                                     "trasmette (o --cf-operatore)")
    siuss_codice_regione: str = Field(default="03", pattern=r"^[0-9]{2}$",
                                      description="SIUSS: regione di residenza (DM 1986; 03 Lombardia)")
    siuss_dir: Path = Field(default=Path("siuss"), description="dove `legami siuss esporta` scrive i flussi XML")

    @model_validator(mode="after")
    def refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("LEGAMI_SECRET_KEY deve essere impostata in produzione")
        if self.environment == "production" and not self.health_keys.strip():
            raise ValueError("LEGAMI_HEALTH_KEYS deve essere impostata in produzione (legami keys new)")
        if self.health_keys.strip():
            from store.sealed import parse_keys

            parse_keys(self.health_keys)  # an unreadable key is refused at start, naming it
        if self.signature_trust_dir is not None and not self.signature_trust_dir.is_dir():
            raise ValueError(f"LEGAMI_SIGNATURE_TRUST_DIR: la cartella {self.signature_trust_dir} non esiste")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
