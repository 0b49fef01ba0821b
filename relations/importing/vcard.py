"""A small, forgiving vCard reader (2.1, 3.0 and 4.0) for the fields Rapport imports.

Written for the files address books really write, which a strict parser refuses:

- line ends CR LF, LF, CR, and the CR CR LF of iPhone exports, mixed in one file;
- folded lines (a leading space or tab), and vCard 2.1 QUOTED-PRINTABLE values whose
  lines end in a soft break `=` and continue on the next line without indentation;
- `CHARSET=` of quoted-printable values (UTF-8, ISO-8859-1, Windows-1252...);
- structured values (`N`, `ORG`) split on unescaped `;`, with `\\,` `\\;` `\\n` unescaped,
  so `ORG:Company, The;Dept` is the organisation "Company, The";
- grouped properties (`item1.EMAIL` with `item1.X-ABLabel`) read as plain ones;
- base64 PHOTO, KEY, LOGO and SOUND values, folded or not, skipped without harm;
- Apple company cards (`X-ABShowAs:COMPANY`, an empty `FN`): named after the company.

Pure functions over text: no database. A card that cannot be used comes back with
`values["_error"]` so the importer reports it on its line and imports the others.
"""

from __future__ import annotations

import codecs
import quopri
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# A line break: CR CR LF (iPhone), CR LF, LF or a lone CR.
LINE_BREAK = re.compile(r"\r*\n|\r")
# Properties whose value is binary data; they are skipped whole.
BINARY = {"PHOTO", "KEY", "LOGO", "SOUND"}
# At most this many properties per card: a real card has a few dozen.
MAX_PROPERTIES = 2000


@dataclass
class Property:
    name: str  # upper case, without its group
    params: dict[str, list[str]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)  # TYPE values and bare 2.1 parameters
    value: str = ""


@dataclass
class RawCard:
    line: int
    properties: list[Property] = field(default_factory=list)
    error: str = ""


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, unfolded line) of every content line."""
    physical = LINE_BREAK.split(text)
    lines: list[tuple[int, str]] = []
    quoted_printable = False
    for number, raw in enumerate(physical, start=1):
        if not lines:
            if raw.strip():
                lines.append((number, raw))
                quoted_printable = _is_quoted_printable(raw)
            continue
        start, current = lines[-1]
        if quoted_printable and current.endswith("="):
            # A soft line break of a quoted-printable value: the next line continues it,
            # indented or not.
            lines[-1] = (start, current[:-1] + raw.lstrip(" \t"))
            continue
        if raw[:1] in (" ", "\t"):
            lines[-1] = (start, current + raw[1:])
            continue
        if not raw.strip():
            continue
        if ":" not in raw and _name_of(current) in BINARY:
            # Unindented base64 lines of a vCard 2.1 PHOTO: part of the skipped value.
            continue
        lines.append((number, raw))
        quoted_printable = _is_quoted_printable(raw)
    return lines


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _name_of(line: str) -> str:
    head = re.split(r"[;:]", line, maxsplit=1)[0]
    return head.rsplit(".", 1)[-1].strip().upper()


def _split_unquoted(text: str, separator: str) -> list[str]:
    """Split on a separator outside double quotes."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_property(line: str) -> Property | None:
    """A content line as a property, or None when it is not one (no colon, no name)."""
    head, colon, value = _head_and_value(line)
    if not colon:
        return None
    pieces = _split_unquoted(head, ";")
    name = pieces[0].rsplit(".", 1)[-1].strip().upper()
    if not name or not re.fullmatch(r"[A-Z0-9-]+", name):
        return None
    prop = Property(name=name)
    for piece in pieces[1:]:
        piece = piece.strip()
        if not piece:
            continue
        if "=" in piece:
            key, raw = piece.split("=", 1)
            key = key.strip().upper()
            values = [v.strip().strip('"') for v in _split_unquoted(raw, ",")]
            prop.params.setdefault(key, []).extend(values)
            if key == "TYPE":
                prop.types.update(v.upper() for v in values if v)
            elif key == "PREF":
                prop.types.add("PREF")
        else:
            prop.types.add(piece.upper())  # vCard 2.1: `TEL;WORK;VOICE:`
    encoding = {v.upper() for v in prop.params.get("ENCODING", [])} | (
        prop.types & {"QUOTED-PRINTABLE", "BASE64", "B"}
    )
    if name in BINARY or encoding & {"BASE64", "B"}:
        return prop  # binary data is never decoded
    if "QUOTED-PRINTABLE" in encoding:
        charset = (prop.params.get("CHARSET") or ["utf-8"])[0] or "utf-8"
        value = _decode_quoted_printable(value, charset)
    prop.value = value
    return prop


def _head_and_value(line: str) -> tuple[str, str, str]:
    """The part before the first colon outside quotes, and the value after it."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[:index], ":", line[index + 1 :]
    # An unbalanced quote: the first colon then.
    head, colon, value = line.partition(":")
    return head, colon, value


def _decode_quoted_printable(value: str, charset: str) -> str:
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    raw = quopri.decodestring(value.encode("utf-8", "replace"))
    try:
        return raw.decode(charset)
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def unescape(text: str) -> str:
    r"""`\n` → newline, `\,` → `,`, `\;` → `;`, `\\` → `\`; anything else kept."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following in "nN":
                out.append("\n")
            elif following in ",;:\\":
                out.append(following)
            else:
                out.append(char + following)
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def components(text: str) -> list[str]:
    """A structured value (`N`, `ORG`, `ADR`) split on unescaped `;`, each unescaped."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return [unescape(p).strip() for p in parts]


def read_cards(text: str) -> list[RawCard]:
    """Every BEGIN:VCARD … END:VCARD block of the text; nested cards (AGENT) are skipped."""
    cards: list[RawCard] = []
    depth = 0
    card: RawCard | None = None
    for number, line in _logical_lines(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            depth += 1
            if depth == 1:
                card = RawCard(line=number)
                cards.append(card)
            continue
        if upper == "END:VCARD":
            depth = max(0, depth - 1)
            if depth == 0:
                card = None
            continue
        if card is None or depth != 1:
            continue
        if len(card.properties) >= MAX_PROPERTIES:
            card.error = _("The card holds more than %(max)d lines.") % {"max": MAX_PROPERTIES}
            continue
        prop = parse_property(line)
        if prop is not None:
            card.properties.append(prop)
        elif not card.error:
            card.error = _("Malformed vCard: line %(line)d is not a “NAME:value” line.") % {
                "line": number
            }
    return cards


def _preferred(card: RawCard, name: str) -> Property | None:
    found = [p for p in card.properties if p.name == name and p.value.strip()]
    if not found:
        return None
    preferred = [p for p in found if "PREF" in p.types]
    return (preferred or found)[0]


def _text(card: RawCard, name: str) -> str:
    prop = _preferred(card, name)
    return " ".join(unescape(prop.value).split()) if prop else ""


def card_values(card: RawCard) -> dict[str, str]:
    """The stakeholder fields of one card: name, email, phone, organization, title, notes."""
    if card.error:
        return {"_error": card.error}
    org_prop = _preferred(card, "ORG")
    org_parts = components(org_prop.value) if org_prop else []
    organization = " ".join((org_parts[0] if org_parts else "").split())
    if not organization and len(org_parts) > 1:
        organization = " ".join(org_parts[1].split())

    name = _text(card, "FN")
    show_as = _text(card, "X-ABSHOWAS").upper()
    if show_as == "COMPANY" and organization:
        name = organization  # an Apple company card: the company is what it shows
    if not name:
        n_prop = _preferred(card, "N")
        if n_prop is not None:
            parts = [*components(n_prop.value), "", "", "", "", ""][:5]
            family, given, additional, prefix, suffix = parts
            pieces = [prefix, given, additional, family, suffix]
            name = " ".join(" ".join(p.replace(",", " ").split()) for p in pieces if p.strip())
    if not name:
        name = organization

    email = ""
    email_prop = _preferred(card, "EMAIL")
    if email_prop is not None:
        email = unescape(email_prop.value).strip()
        if email.lower().startswith("mailto:"):
            email = email[7:].strip()
    if not name and email:
        name = email  # a card with only an address (Android): named by it

    phone = ""
    tel = _preferred(card, "TEL")
    if tel is not None:
        phone = unescape(tel.value).strip()
        if phone.lower().startswith("tel:"):
            phone = phone[4:]
        phone = re.sub(r";\s*ext=", " ext. ", phone, flags=re.IGNORECASE)
        phone = " ".join(phone.split())

    notes = "\n\n".join(
        unescape(p.value).replace("\r\n", "\n").replace("\r", "\n").strip()
        for p in card.properties
        if p.name == "NOTE" and p.value.strip()
    )
    return {
        "name": " ".join(name.split()),
        "email": email,
        "phone": phone,
        "organization": organization,
        "title": _text(card, "TITLE"),
        "notes": notes,
    }
