"""Italian e-mail templates: ONE Jinja2 environment, built at import and reused for every message.

Each template `<name>` is three files, in `notifications/templates/` (digests, obligations, layouts), in
`domain/casetypes/templates/` (shared by case types) or in a case type's own `templates` folder:

* `<name>.subject.txt`  the subject (one line; whitespace is collapsed),
* `<name>.txt`          the plain-text part (extends `_layout.txt`),
* `<name>.html`         the HTML part (extends `_layout.html`, autoescaped).

Context: the outbox payload's keys, plus `base_url` and `oggetto` (the rendered subject). Filters:
`data_it` (date or ISO text -> dd/mm/yyyy), `ora_it` (ISO datetime -> dd/mm/yyyy HH:MM, Europe/Rome),
`euro` (-> "€ 1.234,50"), `assoluto` (relative link -> base_url + link), `quando` (days to a due date ->
"tra 3 giorni", "oggi", "scaduta da 2 giorni"), `tipo_caso` (case-type code -> its label).
`StrictUndefined`: a field missing from the payload is an error, never an empty string.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context, select_autoescape

from domain import italian

TEMPLATES_DIR = Path(__file__).parent / "templates"


class UnknownTemplate(LookupError):
    """The outbox row names a template that does not exist."""


class BadValue(ValueError):
    """A payload value that a filter cannot format (not a date, not an amount...)."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


# ------------------------------------------------------------------ filters


def _formatted(formatter: Callable[[Any], str], value: Any) -> str:
    """A date filter: blank -> ""; a date, datetime or ISO text -> `formatter`'s text; anything else -> BadValue."""
    if value is None or value == "":
        return ""
    if isinstance(value, (date, datetime, str)):
        try:
            return formatter(value)
        except ValueError:
            pass
    raise BadValue(f"data non riconosciuta: {value!r}")


@lru_cache(maxsize=4096)  # the same few days recur in every digest
def _data_it_text(value: str) -> str:
    return _formatted(italian.format_date, value)


def data_it(value: Any) -> str:
    """date, datetime or ISO text -> dd/mm/yyyy (`domain.italian.format_date`: an aware datetime in Europe/Rome)."""
    if isinstance(value, str) and value:
        return _data_it_text(value)
    return _formatted(italian.format_date, value)


def ora_it(value: Any) -> str:
    """datetime or ISO text -> dd/mm/yyyy HH:MM in Europe/Rome, naive values being UTC (`domain.italian`)."""
    return _formatted(italian.format_datetime, value)


def euro(value: Any) -> str:
    """1234.5 -> "€ 1.234,50" (`domain.italian.euro`); a value that is not an amount -> BadValue."""
    try:
        return italian.euro(value)
    except ValueError as exc:
        raise BadValue(str(exc)) from None


def numero(value: Any) -> str:
    """19.5 -> "19,5" (`domain.italian.quantity`); a value that is not a number -> BadValue."""
    try:
        return italian.quantity(value)
    except ValueError as exc:
        raise BadValue(str(exc)) from None


def quando(giorni: int) -> str:
    """Days to a due date (negative: past) in words."""
    try:
        giorni = int(giorni)
    except (TypeError, ValueError):
        raise BadValue(f"numero di giorni non riconosciuto: {giorni!r}") from None
    if giorni == 0:
        return "oggi"
    if giorni == 1:
        return "domani"
    if giorni > 1:
        return f"tra {giorni} giorni"
    if giorni == -1:
        return "scaduta da 1 giorno"
    return f"scaduta da {-giorni} giorni"


@pass_context
def assoluto(context, link: str) -> str:
    """A relative link ("/casi/17") -> base_url + link; an absolute one is kept."""
    if link.startswith(("http://", "https://")):
        return link
    return context["base_url"].rstrip("/") + "/" + link.lstrip("/")


def tipo_caso(code: str) -> str:
    from domain.errors import UnknownCaseType
    from domain.registry import get_workflow

    try:
        return get_workflow(code).label
    except UnknownCaseType:
        return code


# ------------------------------------------------------------------ the environment

class _Environment(Environment):
    """Payloads are JSON: `voce.etichetta` looks the key up first (the stock getattr tries the attribute,
    catches AttributeError, then the key: an exception per field, a third of the rendering time)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def template_dirs() -> list[Path]:
    """Where templates are looked up: Legami's own, the case types' shared ones, each case type's."""
    from domain.casetype import COMMON_TEMPLATES
    from domain.registry import all_case_types

    dirs = [TEMPLATES_DIR, COMMON_TEMPLATES]
    dirs += [ct.templates for ct in all_case_types() if ct.templates is not None and ct.templates not in dirs]
    return dirs


class _CaseTypeLoader(ChoiceLoader):
    """A choice over `template_dirs()`, read at each lookup so that a case type registered later is found."""

    def __init__(self) -> None:
        super().__init__([])

    def get_source(self, environment, template):  # type: ignore[no-untyped-def]
        self.loaders = [FileSystemLoader(d) for d in template_dirs()]
        return super().get_source(environment, template)

    def load(self, environment, name, globals=None):  # type: ignore[no-untyped-def]
        self.loaders = [FileSystemLoader(d) for d in template_dirs()]
        return super().load(environment, name, globals)


ENV = _Environment(
    loader=_CaseTypeLoader(),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,  # compiled once, never re-stat'ed
    cache_size=-1,
)
ENV.filters.update(data_it=data_it, ora_it=ora_it, euro=euro, numero=numero, quando=quando, assoluto=assoluto,
                   tipo_caso=tipo_caso)
CATEGORIE = (  # the digest's groups, in this order
    ("scaduta", "Scadute"),
    ("scadenza", "In scadenza"),
    ("escalation", "Solleciti per scadenze superate di altri"),
    ("obbligo", "Obblighi del distretto"),
    ("diario", "Scritto da colleghi nel diario dei suoi casi"),
)


def raggruppa(voci: list[dict]) -> list[tuple[str, list[dict]]]:
    """Digest items by category, in CATEGORIE order, non-empty groups only (an unknown category: last,
    under its own name)."""
    groups: dict[str, list[dict]] = {}
    for voce in voci:
        groups.setdefault(voce["categoria"], []).append(voce)
    titles = dict(CATEGORIE)
    ordered = [(titles[c], groups.pop(c)) for c, _t in CATEGORIE if c in groups]
    return ordered + [(c.capitalize(), g) for c, g in groups.items()]


ENV.globals.update(
    CATEGORIE=CATEGORIE,
    raggruppa=raggruppa,
    FONTI={"statutory": "termine di legge", "configured": "termine del distretto"},
)


def template_names() -> list[str]:
    """Templates that have all three parts, in any of `template_dirs()`."""
    names = set()
    for d in template_dirs():
        names |= {p.name[: -len(".subject.txt")] for p in d.glob("*.subject.txt")
                  if (d / p.name.replace(".subject.txt", ".txt")).exists()
                  and (d / p.name.replace(".subject.txt", ".html")).exists()}
    return sorted(names)


LABEL = re.compile(r"\{#\s*etichetta:\s*(.+?)\s*#\}")


@lru_cache(maxsize=256)
def template_label(template: str) -> str:
    """The Italian name of a kind of message, for pages that list the outbox: declared in the template's
    subject file as a comment `{# etichetta: Caso assegnato #}` (it renders as nothing); a template without
    one, or an unknown one, gets its code in words («caso assegnato» → «Caso assegnato»)."""
    try:
        source = ENV.loader.get_source(ENV, f"{template}.subject.txt")[0] if not template.startswith("_") else ""
    except TemplateNotFound:
        source = ""
    found = LABEL.search(source)
    return found.group(1) if found else template.replace("_", " ").strip().capitalize()


def render(template: str, payload: dict[str, Any], *, base_url: str) -> RenderedMail:
    """Subject, text and HTML of one message. Unknown template -> UnknownTemplate; missing field ->
    jinja2.UndefinedError (a TemplateError); a value a filter cannot format -> BadValue."""
    try:
        if template.startswith("_"):
            raise TemplateNotFound(template)
        subject_t = ENV.get_template(f"{template}.subject.txt")
        text_t = ENV.get_template(f"{template}.txt")
        html_t = ENV.get_template(f"{template}.html")
    except TemplateNotFound:
        raise UnknownTemplate(
            f"modello di e-mail «{template}» sconosciuto (disponibili: {', '.join(template_names())})") from None
    context = {**payload, "base_url": base_url}
    subject = " ".join(subject_t.render(context).split())
    context["oggetto"] = subject
    return RenderedMail(subject=subject, text=text_t.render(context), html=html_t.render(context))

