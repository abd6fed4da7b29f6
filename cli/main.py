"""`legami`: the command line, thin over the service layer; this module only assembles the command groups.

- cli/common.py: the engine, the acting user (--actor), parsing, output, errors at the edge;
- cli/cases.py: `case ...` (as the --actor user: scope, redaction, health-read log) and `workflow ...`;
- cli/diary.py: `diario list|add` (the case diary, as the --actor user);
- cli/person.py: `persona mostra|unisci|risolvi` (the person across measures, as the --actor user);
- cli/handover.py: `case riassegna|trasferisci|consegna`, `sostituti list|add|end` (hand-over, as --actor);
- cli/acts.py: `atti elenco|genera` (the generated acts, as the --actor user);
- cli/documents.py: `documenti list|add|get` (a case's documents, as the --actor user);
- cli/imports.py: `import TIPO FILE`, `import modello TIPO FILE.xlsx` (existing cases from a spreadsheet);
- cli/operations.py: administrative commands (init, demo, policy, sweep, obligations, outbox, serve);
- cli/reports.py: tally, report, calendar;
- cli/users.py: `user ...`;
- cli/backup.py: backup, restore; cli/audit.py: `audit verify|checkpoint`;
- cli/keys.py: `keys new|rotate` (the sealed health data's keys);
- cli/signatures.py: `firma verifica` (a signed PDF or .p7m, no database);
- cli/siuss.py: `siuss esporta|esiti|flussi` (the flows to INPS's Casellario, Ufficio di Piano);
- cli/ambiti.py: `ambito list|load|show` (the Ambiti the instance holds);
- cli/jobs.py: `jobs partizioni|notte|deploy` (the nightly jobs per Ambito, a Prefect work pool).
"""
from __future__ import annotations

import sys

import typer

from cli import backup, imports, operations, reports
from cli.acts import acts_app
from cli.ambiti import ambito_app
from cli.audit import audit_app
from cli.cases import case_app, workflow_app
from cli.diary import diary_app
from cli.person import person_app
from cli.handover import deputy_app
from cli.documents import documents_app
from cli.italian import Typer
from cli.jobs import jobs_app
from cli.keys import keys_app
from cli.siuss import siuss_app
from cli.operations import obligations_app, outbox_app, policy_app
from cli.signatures import signature_app
from cli.users import user_app

app = Typer(name="legami", help="Legami: casi, scadenze ed esiti dei servizi sociali d'Ambito.", no_args_is_help=True)
app.add_typer(operations.commands)
app.add_typer(reports.commands)
app.add_typer(backup.commands)
app.add_typer(imports.commands)
app.add_typer(case_app, name="case")
app.add_typer(workflow_app, name="workflow")
app.add_typer(diary_app, name="diario")
app.add_typer(person_app, name="persona")
app.add_typer(deputy_app, name="sostituti")
app.add_typer(acts_app, name="atti")
app.add_typer(documents_app, name="documenti")
app.add_typer(policy_app, name="policy")
app.add_typer(obligations_app, name="obligations")
app.add_typer(outbox_app, name="outbox")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(signature_app, name="firma")
app.add_typer(siuss_app, name="siuss")
app.add_typer(ambito_app, name="ambito")
app.add_typer(jobs_app, name="jobs")

__all__ = ["app", "main", "user_app"]


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
