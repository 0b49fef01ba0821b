"""The fields each kind of import fills, their header names, and how a cell is read.

Cleaning is plain Python on strings (no model `full_clean` per row): a 100,000-row
file is validated in a few seconds. Every rule here mirrors a model validator or
database constraint, so a row that passes cannot fail on insert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relations.importing.parsing import normalise_header
from relations.models import Interaction, Organization, Stakeholder


class RowError(ValueError):
    """A row that cannot be imported; the message says why, for the report."""


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False


def _c(name: str, label, *aliases: str, required: bool = False) -> Column:
    return Column(name, label, tuple(aliases), required)


STAKEHOLDER_COLUMNS = [
    _c(
        "name",
        gettext_lazy("Name"),
        "full name",
        "naam",
        "volledige naam",
        "contact",
        "contact name",
        "display name",
        "fn",
    ),
    _c("first_name", gettext_lazy("First name"), "given name", "voornaam", "firstname", "roepnaam"),
    _c("middle_name", gettext_lazy("Middle name"), "additional name", "middle names"),
    # The tussenvoegsel of a Dutch name ("van den"), kept in the name.
    _c(
        "surname_prefix",
        gettext_lazy("Surname prefix (tussenvoegsel)"),
        "tussenvoegsel",
        "tussenvoegsels",
        "voorvoegsel",
        "surname prefix",
    ),
    _c(
        "last_name",
        gettext_lazy("Last name"),
        "surname",
        "family name",
        "achternaam",
        "lastname",
        "geslachtsnaam",
    ),
    _c(
        "organization",
        gettext_lazy("Organization"),
        "organisation",
        "company",
        "organisatie",
        "bedrijf",
        "account",
        "employer",
        "company name",
        "org",
        "organization name",  # Google Contacts
        "organization 1 name",
        "account name",  # Salesforce
        "associated company",  # HubSpot
        "bedrijfsnaam",
        "werkgever",
    ),
    _c(
        "title",
        gettext_lazy("Role / title"),
        "job title",
        "role",
        "functie",
        "rol",
        "position",
        "functietitel",
        "organization title",  # Google Contacts
        "organization 1 title",
        "functieomschrijving",
        # "Title" alone: the job title, unless another column is (Outlook's "Title"
        # is a salutation beside its "Job Title"); see WEAK_ALIASES.
    ),
    _c(
        "email",
        gettext_lazy("E-mail"),
        "e mail",
        "email address",
        "e mail address",
        "e mailadres",
        "emailadres",
        "mail",
        "e mail 1 value",  # Google Contacts
        "email 1 value",
        "e mail 1 address",
        "e mail address 1",
        "primary email",
        "work email",
        "e mail werk",
    ),
    _c(
        "phone",
        gettext_lazy("Phone"),
        "telephone",
        "mobile",
        "telefoon",
        "telefoonnummer",
        "mobiel",
        "tel",
        "phone number",
        "phone 1 value",  # Google Contacts
        "business phone",  # Outlook
        "mobile phone",
        "mobile phone number",
        "telefoon werk",
        "mobiele telefoon",
        "telefoonnummer werk",
    ),
    _c(
        "tags",
        gettext_lazy("Tags"),
        "labels",
        "tag",
        "trefwoorden",
        "categories",  # Outlook
        "group membership",  # older Google Contacts
        "categorieen",
    ),
    _c("importance", gettext_lazy("Importance"), "belang", "prioriteit", "priority"),
    _c("influence", gettext_lazy("Influence"), "invloed"),
    _c("interest", gettext_lazy("Interest"), "interesse", "belangstelling"),
    _c(
        "owner",
        gettext_lazy("Owner (username or e-mail)"),
        "eigenaar",
        "account owner",
        "relationship owner",
    ),
    _c(
        "cadence_days",
        gettext_lazy("Contact cadence (days)"),
        "cadence",
        "contactfrequentie",
        "cadence days",
    ),
    _c("legal_basis", gettext_lazy("Legal basis"), "grondslag"),
    _c("consent_date", gettext_lazy("Consent date"), "toestemmingsdatum"),
    _c("data_source", gettext_lazy("Source of the data"), "source", "bron"),
    _c("notes", gettext_lazy("Notes"), "note", "comments", "opmerkingen", "notities", "notitie"),
]

ORGANIZATION_COLUMNS = [
    _c(
        "name",
        gettext_lazy("Name"),
        "organization",
        "organisation",
        "company",
        "naam",
        "organisatie",
        "bedrijf",
        "company name",
        "account name",
        "bedrijfsnaam",
        required=True,
    ),
    _c("sector", gettext_lazy("Sector"), "industry", "branche", "bedrijfstak"),
    _c("country", gettext_lazy("Country"), "land", "country region"),  # HubSpot
    _c(
        "website",
        gettext_lazy("Website"),
        "url",
        "web",
        "site",
        "homepage",
        "company domain name",  # HubSpot
        "domain",
        "website url",
    ),
    _c("tier", gettext_lazy("Tier"), "niveau"),
    _c("notes", gettext_lazy("Notes"), "note", "comments", "opmerkingen", "notities"),
]

INTERACTION_COLUMNS = [
    _c(
        "occurred_at",
        gettext_lazy("When"),
        "date",
        "datum",
        "wanneer",
        "occurred at",
        "datetime",
        "date time",
        "datum tijd",
        "time",
        "start date",  # Outlook calendar export
        "startdatum",
        "begindatum",
        required=True,
    ),
    _c("start_time", gettext_lazy("Start time"), "begintijd", "starttijd"),
    _c("end_date", gettext_lazy("End date"), "einddatum"),
    _c("end_time", gettext_lazy("End time"), "eindtijd"),
    _c(
        "all_day",
        gettext_lazy("All-day event"),
        "all day event",
        "hele dag",
        "gebeurtenis hele dag",
    ),
    _c("kind", gettext_lazy("Kind"), "type", "soort"),
    _c("subject", gettext_lazy("Subject"), "onderwerp", "title", "titel", required=True),
    _c(
        "notes",
        gettext_lazy("Notes"),
        "note",
        "comments",
        "opmerkingen",
        "notities",
        "description",
        "beschrijving",
    ),
    _c(
        "stakeholders",
        gettext_lazy("Stakeholders (e-mail or name)"),
        "stakeholder",
        "contact",
        "contacts",
        "stakeholder email",
        "stakeholder e mail",
        "with",
        "met",
        "required attendees",  # Outlook calendar export
        "verplichte deelnemers",
        "attendees",
        required=True,
    ),
    _c(
        "participants",
        gettext_lazy("Colleagues (username or e-mail)"),
        "colleagues",
        "collegas",
        "collega s",
        "deelnemers",
        "internal participants",
        "participant",
    ),
    _c("value_given", gettext_lazy("Value given"), "given", "gegeven"),
    _c("value_received", gettext_lazy("Value received"), "received", "ontvangen"),
    _c("sentiment", gettext_lazy("Sentiment"), "stemming"),
    _c(
        "duration_minutes",
        gettext_lazy("Duration (minutes)"),
        "duration",
        "duur",
        "minutes",
        "minuten",
    ),
    _c("cost", gettext_lazy("Cost"), "kosten"),
    _c("private", gettext_lazy("Private"), "prive", "vertrouwelijk"),
]

COLUMNS = {
    "stakeholders": STAKEHOLDER_COLUMNS,
    "vcard": STAKEHOLDER_COLUMNS,
    "organizations": ORGANIZATION_COLUMNS,
    "interactions": INTERACTION_COLUMNS,
}


# Headers that name a field only when no other header does: Outlook's contacts export
# has "Title" (Dhr., Mr.) beside "Job Title", Salesforce's "Title" is the job title.
WEAK_ALIASES = {"title", "priority", "prioriteit"}


def guess_mapping(kind: str, headers: list[str]) -> list[str]:
    """One field name per header ("" when none fits); each field used at most once."""
    lookup: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for alias in (
            column.name.replace("_", " "),
            normalise_header(str(column.label)),
            *column.aliases,
        ):
            lookup.setdefault(normalise_header(alias), column.name)
    normalised = [normalise_header(h) for h in headers]
    strong = {lookup.get(h, "") for h in normalised if h not in WEAK_ALIASES}
    used: set[str] = set()
    mapping = []
    for header in normalised:
        name = lookup.get(header, "")
        if name in used or (header in WEAK_ALIASES and name in strong):
            name = ""
        used.add(name)
        mapping.append(name)
    return mapping


def mapping_problems(kind: str, mapping: list[str]) -> list[str]:
    """Why a mapping cannot be used: unknown or repeated fields, required ones missing."""
    known = {c.name for c in COLUMNS[kind]}
    problems = []
    chosen = [m for m in mapping if m]
    for name in sorted({m for m in chosen if m not in known}):
        problems.append(_("Unknown field “%(field)s”.") % {"field": name})
    for name in sorted({m for m in chosen if chosen.count(m) > 1}):
        problems.append(_("“%(field)s” is chosen for more than one column.") % {"field": name})
    labels = {c.name: str(c.label) for c in COLUMNS[kind]}
    for column in COLUMNS[kind]:
        if column.required and column.name not in chosen:
            problems.append(_("Choose a column for “%(field)s”.") % {"field": column.label})
    if kind in {"stakeholders", "vcard"} and not (
        "name" in chosen or {"first_name", "last_name"} & set(chosen)
    ):
        problems.append(
            _("Choose a column for “%(name)s” (or first and last name).") % {"name": labels["name"]}
        )
    return problems


# --------------------------------------------------------------------------
# Reading one cell

_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])
# Labels and tags: `;`, `,`, `|`, new lines and Google's ` ::: `.
LIST_SPLIT = re.compile(r"\s*:::\s*|[,;|\n]")
TRUE = {"1", "true", "yes", "y", "x", "ja", "j", "waar", "private", "prive", "privé"}
FALSE = {"0", "false", "no", "n", "nee", "onwaar", ""}


def text(value: str, max_length: int, label: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > max_length:
        raise RowError(
            _("%(field)s is longer than %(max)d characters.") % {"field": label, "max": max_length}
        )
    return value


def one_line(value: str, max_length: int, label: str) -> str:
    return text(" ".join(value.split()), max_length, label)


def integer(value: str, low: int, high: int, label: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise RowError(
            _("%(field)s must be a whole number, not “%(value)s”.")
            % {"field": label, "value": value.strip()[:40]}
        ) from None
    if not low <= number <= high:
        raise RowError(
            _("%(field)s must be between %(low)d and %(high)d.")
            % {"field": label, "low": low, "high": high}
        )
    return number


def email(value: str) -> str:
    value = value.strip()
    try:
        _email(value)
    except ValidationError:
        raise RowError(_("“%(value)s” is not an e-mail address.") % {"value": value[:80]}) from None
    if len(value) > 254:
        raise RowError(_("The e-mail address is too long."))
    return value


def website(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://", value, re.IGNORECASE):
        value = f"https://{value}"
    try:
        _url(value)
    except ValidationError:
        raise RowError(_("“%(value)s” is not a web address.") % {"value": value[:80]}) from None
    if len(value) > 200:
        raise RowError(_("The web address is too long."))
    return value


def boolean(value: str, label: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise RowError(
        _("%(field)s must be yes or no, not “%(value)s”.") % {"field": label, "value": value[:40]}
    )


def money(value: str, label: str) -> Decimal:
    cleaned = value.strip().replace("€", "").replace("$", "").replace(" ", "")
    if "," in cleaned and "." in cleaned:
        # 1.234,50 (Dutch) or 1,234.50 (English): the last separator is the decimal one.
        thousands = "." if cleaned.rfind(",") > cleaned.rfind(".") else ","
        cleaned = cleaned.replace(thousands, "")
    cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise RowError(
            _("%(field)s must be an amount, not “%(value)s”.")
            % {"field": label, "value": value[:40]}
        )
    amount = amount.quantize(Decimal("0.01"))
    if amount < 0 or amount >= Decimal("1e10"):
        raise RowError(_("%(field)s must be between 0 and 9,999,999,999.99.") % {"field": label})
    return amount


_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%H.%M", "%I:%M:%S %p", "%I:%M %p")


def parse_date(value: str, label: str) -> date:
    value = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if 1900 <= parsed.year <= 2200:
            return parsed
    raise RowError(
        _("%(field)s must be a date such as 2026-03-01 or 01-03-2026, not “%(value)s”.")
        % {"field": label, "value": value[:40]}
    )


def parse_datetime(value: str, label: str) -> datetime:
    """ISO 8601 with or without an offset, or a date and an optional time.

    A time without an offset is in the installation's time zone; a date alone
    counts as 00:00 UTC (DESIGN §6).
    """
    value = " ".join(value.strip().split())
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if len(value) <= 10:
            parsed = datetime.combine(parsed.date(), time(), tzinfo=UTC)
    except ValueError:
        parts = value.split(" ", 1)
        try:
            day = parse_date(parts[0], label)
        except RowError:
            day = None
        if day and len(parts) == 1:
            parsed = datetime.combine(day, time(), tzinfo=UTC)
        elif day:
            for fmt in _TIME_FORMATS:
                try:
                    parsed = datetime.combine(day, datetime.strptime(parts[1], fmt).time())
                    break
                except ValueError:
                    continue
    if parsed is None or not 1900 <= parsed.year <= 2200:
        raise RowError(
            _("%(field)s must be a date and time such as 2026-03-01 14:30, not “%(value)s”.")
            % {"field": label, "value": value[:40]}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def choice(value: str, choices: dict[str, str], label: str) -> str:
    key = normalise_header(value)
    if key in choices:
        return choices[key]
    raise RowError(
        _("%(field)s “%(value)s” is not one of: %(choices)s.")
        % {
            "field": label,
            "value": value.strip()[:40],
            "choices": ", ".join(sorted({str(v) for v in choices.values()})),
        }
    )


def _choices_of(enum, extra: dict[str, str] | None = None) -> dict[str, str]:
    table = {}
    for value, label in enum.choices:
        table[normalise_header(str(value))] = value
        table[normalise_header(str(label))] = value
    for alias, value in (extra or {}).items():
        table[normalise_header(alias)] = value
    return table


INTERACTION_KINDS = _choices_of(
    Interaction.Kind,
    {
        "vergadering": "meeting",
        "afspraak": "meeting",
        "gesprek": "meeting",
        "videogesprek": "video_call",
        "video": "video_call",
        "videobellen": "video_call",
        "telefoon": "call",
        "telefoongesprek": "call",
        "phone": "call",
        "bellen": "call",
        "evenement": "event",
        "introductie": "introduction",
        "mail": "email",
        "bericht": "message",
        "overig": "other",
        "anders": "other",
    },
)
ORGANIZATION_TIERS = _choices_of(
    Organization.Tier,
    {"1": 1, "2": 2, "3": 3, "strategisch": 1, "belangrijk": 2, "standaard": 3},
)
LEGAL_BASES = _choices_of(
    Stakeholder.LegalBasis,
    {
        "gerechtvaardigd belang": "legitimate_interest",
        "toestemming": "consent",
        "overeenkomst": "contract",
        "wettelijke verplichting": "legal_obligation",
    },
)


def split_list(value: str) -> list[str]:
    """The items of a multi-value cell; Google's system groups ("* myContacts") are
    no labels anyone chose, and are left out."""
    items = [item.strip() for item in LIST_SPLIT.split(value) if item.strip()]
    return [item for item in items if not item.startswith("* ")]


def first_of_many(value: str) -> str:
    """The first value of a cell holding several (Google: `a ::: b`)."""
    return re.split(r"\s*:::\s*", value.strip(), maxsplit=1)[0]
