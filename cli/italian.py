"""The Italian face of `legami`: help pages and usage errors in Italian, within 100 columns.

Typer's own help (boxed panels, «Usage», «Show this message and exit», `--json <bool>`) and its usage errors
(«No such option», «Missing argument», a boxed panel after the usage line) are replaced here, for every group and
command made with `cli.italian.Typer`: the help is plain Italian text (flags shown as flags), and a usage error is
one line, `Errore: …`, naming the option or argument, on stderr with exit code 2. Domain errors are turned into
Italian lines by `cli.common.run`; a file that cannot be read or written by `file_error` below.
"""
from __future__ import annotations

import errno
import re
import shutil
import sys
import textwrap
from typing import Any

import typer
from typer._click import exceptions as click_errors
from typer.core import TyperArgument, TyperCommand, TyperGroup

MAX_WIDTH = 100
HELP_TEXT = "Mostra questo aiuto ed esce."
TYPE_NAMES = {"str": "TESTO", "int": "NUMERO", "float": "NUMERO", "path": "PERCORSO", "bool": "SÌ/NO"}


def width() -> int:
    """The terminal's width, at most 100 columns (and at least 60, so that a table stays a table)."""
    return max(60, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


class Typer(typer.Typer):
    """`typer.Typer` whose groups and commands speak Italian (no completion options: their help is English)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", ItalianGroup)
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(**kwargs)

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any):  # type: ignore[override]
        return super().command(name, cls=cls or ItalianCommand, **kwargs)


class _Italian:
    """Help and error handling shared by commands and groups."""

    def format_help(self, ctx, formatter) -> None:  # noqa: D401 - click's hook
        formatter.write(help_page(self, ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help())
            result = 2
        except click_errors.ClickException as exc:
            typer.echo(f"Errore: {usage_message(exc)}", err=True)
            result = exc.exit_code
        except typer.Abort:
            typer.echo("Errore: interrotto.", err=True)
            result = 1
        except OSError as exc:
            typer.echo(f"Errore: {file_error(exc)}", err=True)
            result = 1
        code = result if isinstance(result, int) else 0
        if not standalone_mode:
            return code
        sys.exit(code)


class ItalianCommand(_Italian, TyperCommand):
    pass


class ItalianGroup(_Italian, TyperGroup):
    pass


# ------------------------------------------------------------------------------------ help


def help_page(command, ctx) -> str:
    cols = width()
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if isinstance(p, TyperArgument)]
    options = [p for p in params if not isinstance(p, TyperArgument)]
    usage = [ctx.command_path]
    if options:
        usage.append("[OPZIONI]")
    usage += [_argument_label(a) if a.required else f"[{_argument_label(a)}]" for a in arguments]
    if isinstance(command, TyperGroup):
        usage.append("COMANDO [ARGOMENTI]...")
    lines = textwrap.wrap(" ".join(usage), cols, initial_indent="Uso: ", subsequent_indent="     ") + [""]
    text = (command.help or "").partition("\f")[0].strip()
    for paragraph in re.split(r"\n\s*\n", textwrap.dedent(text)) if text else []:
        lines += textwrap.wrap(" ".join(paragraph.split()), cols - 2, initial_indent="  ", subsequent_indent="  ")
        lines.append("")
    if arguments:
        lines += ["Argomenti:", *_definitions([(_argument_label(a), _param_help(a)) for a in arguments], cols), ""]
    if options:
        lines += ["Opzioni:", *_definitions([(_option_label(o), _param_help(o)) for o in options], cols), ""]
    if isinstance(command, TyperGroup):
        rows = [(name, _first_sentence(sub.help or "")) for name in command.list_commands(ctx)
                if (sub := command.get_command(ctx, name)) is not None and not sub.hidden]
        lines += ["Comandi:", *_definitions(rows, cols), ""]
    return "\n".join(lines).rstrip() + "\n"


def _argument_label(param) -> str:
    return param.metavar or param.name.upper()


def _option_label(param) -> str:
    names = ", ".join(sorted(param.opts, key=len))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if param.is_flag:
        return names
    return f"{names} {param.metavar or _type_name(param)}"


def _type_name(param) -> str:
    shown = (param.display_type_rich(ctx=None) or "").strip("<>").split("|")[0].strip()
    return TYPE_NAMES.get(shown, "VALORE")


def _param_help(param) -> str:
    if param.name == "help" and not isinstance(param, TyperArgument):
        return HELP_TEXT
    text = " ".join((param.help or "").split())
    extras = []
    default = param.default
    if (not isinstance(param, TyperArgument) and not param.is_flag and default not in (None, "", ())
            and not callable(default)):
        extras.append(f"predefinito: {default}")
    if param.required:
        extras.append("obbligatorio")
    return f"{text} ({'; '.join(extras)})".strip() if extras else text


def _first_sentence(text: str) -> str:
    """A command's line in its group's list: its help up to the first full stop."""
    text = " ".join(text.split())
    match = re.match(r"(.+?)\.(\s|$)", text)
    return match.group(1) if match else text


def _definitions(rows: list[tuple[str, str]], cols: int) -> list[str]:
    if not rows:
        return []
    left = min(max(len(term) for term, _ in rows), 30)
    out = []
    for term, text in rows:
        body = textwrap.wrap(text, cols - left - 4) or [""]
        if len(term) > left:
            out.append(f"  {term}")
            out += [f"  {'':<{left}}  {line}" for line in body]
        else:
            out.append(f"  {term:<{left}}  {body[0]}".rstrip())
            out += [f"  {'':<{left}}  {line}" for line in body[1:]]
    return out


# ------------------------------------------------------------------------------------ errors

REASONS = [  # what Typer/pydantic say about a value that does not convert, in Italian
    (r"valid integer", "serve un numero intero"),
    (r"valid number|valid float", "serve un numero"),
    (r"valid boolean", "serve sì o no"),
    (r"is not one of|Input should be", "valore non ammesso"),
    (r"does not exist", "non esiste"),
    (r"is a directory", "è una cartella"),
    (r"is a file", "è un file"),
    (r"not readable", "non leggibile"),
    (r"not writable", "non scrivibile"),
    (r"less than|greater than|range", "fuori dall'intervallo ammesso"),
]


def _hint(param) -> str:
    if param is None:
        return "valore"
    if isinstance(param, TyperArgument):
        return f"argomento {_argument_label(param)}"
    return "/".join(sorted(param.opts, key=len, reverse=True)[:1]) or param.name


def usage_message(exc: Exception) -> str:
    """One Italian line for a usage error: the option, argument or command it concerns and what is wrong."""
    ctx = getattr(exc, "ctx", None)
    see = f" (vedi «{ctx.command_path} --help»)" if ctx is not None else ""
    message = getattr(exc, "message", str(exc))
    if isinstance(exc, click_errors.MissingParameter):
        param = exc.param
        if isinstance(param, TyperArgument):
            return f"manca l'argomento {_argument_label(param)}{see}"
        return f"manca l'opzione obbligatoria {_hint(param)}{see}"
    if isinstance(exc, click_errors.BadParameter):
        reason = next((it for pattern, it in REASONS if re.search(pattern, message, re.I)), "valore non valido")
        return f"{_hint(exc.param)}: {reason}{see}"
    if isinstance(exc, click_errors.NoSuchOption):
        maybe = f"; forse {', '.join(sorted(exc.possibilities))}" if exc.possibilities else ""
        return f"opzione sconosciuta «{exc.option_name}»{maybe}{see}"
    if isinstance(exc, click_errors.BadOptionUsage):
        if "does not take" in message:
            return f"l'opzione {exc.option_name} non richiede un valore{see}"
        return f"l'opzione {exc.option_name} richiede un valore{see}"
    if isinstance(exc, click_errors.FileError):
        return f"file «{exc.ui_filename}»: impossibile aprirlo"
    if match := re.match(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?", message):
        maybe = f"; forse {match.group(2)}" if match.group(2) else ""
        return f"comando sconosciuto «{match.group(1)}»{maybe}{see}"
    if match := re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", message):
        return f"argomenti in più non previsti: {match.group(1)}{see}"
    if message.startswith("Missing command"):
        return f"manca il comando{see}"
    if match := re.match(r"Option '(.+?)' requires", message):
        return f"l'opzione {match.group(1)} richiede un valore{see}"
    return f"uso non valido del comando{see}"


FILE_REASONS = {
    errno.ENOENT: "non esiste", errno.EACCES: "accesso negato", errno.EPERM: "operazione non permessa",
    errno.EISDIR: "è una cartella", errno.ENOTDIR: "il percorso non è una cartella", errno.EEXIST: "esiste già",
    errno.ENOSPC: "disco pieno", errno.EROFS: "file system di sola lettura",
    errno.EADDRINUSE: "indirizzo o porta già in uso", errno.ECONNREFUSED: "connessione rifiutata",
}


def file_error(exc: OSError) -> str:
    """«file «x»: non esiste»: what the system refused, in Italian, without Python's words."""
    reason = FILE_REASONS.get(exc.errno, f"errore di sistema {errno.errorcode.get(exc.errno, exc.errno)}")
    if exc.filename is None:
        return f"operazione non riuscita: {reason}"
    return f"file «{exc.filename}»: {reason}"


__all__ = ["ItalianCommand", "ItalianGroup", "Typer", "file_error", "help_page", "usage_message", "width"]
