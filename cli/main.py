"""`legami`: the command line, thin over the service layer; this module only assembles the command groups.

- cli/common.py: the engine, the acting user (--actor), parsing, output, errors at the edge;
- cli/cases.py: `case ...` (as the --actor user: scope, redaction, health-read log) and `workflow ...`;
- cli/diary.py: `diario list|add` (the case diary, as the --actor user);
- cli/operations.py: administrative commands (init, demo, policy, sweep, obligations, outbox, serve);
- cli/reports.py: tally, report, calendar;
- cli/users.py: `user ...`;
- cli/backup.py: backup, restore; cli/audit.py: `audit verify|checkpoint`;
- cli/keys.py: `keys new|rotate` (the sealed health data's keys);
- cli/signatures.py: `firma verifica` (a signed PDF or .p7m, no database);
- cli/ambiti.py: `ambito list|load|show` (the Ambiti the instance holds).
"""
from __future__ import annotations

import sys

import typer

from cli import backup, operations, reports
from cli.ambiti import ambito_app
from cli.audit import audit_app
from cli.cases import case_app, workflow_app
from cli.diary import diary_app
from cli.italian import Typer
from cli.keys import keys_app
from cli.operations import obligations_app, outbox_app, policy_app
from cli.signatures import signature_app
from cli.users import user_app

app = Typer(name="legami", help="Legami: casi, scadenze ed esiti dei servizi sociali d'Ambito.", no_args_is_help=True)
app.add_typer(operations.commands)
app.add_typer(reports.commands)
app.add_typer(backup.commands)
app.add_typer(case_app, name="case")
app.add_typer(workflow_app, name="workflow")
app.add_typer(diary_app, name="diario")
app.add_typer(policy_app, name="policy")
app.add_typer(obligations_app, name="obligations")
app.add_typer(outbox_app, name="outbox")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(signature_app, name="firma")
app.add_typer(ambito_app, name="ambito")

__all__ = ["app", "main", "user_app"]


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
