"""Reading uploaded files into rows: encodings, CSV dialects, vCards, header guessing.

Pure functions on bytes and strings, no database: the upload form, the API and
the worker call the same ones, so a file accepted at upload is read the same
way by the import.

Encodings: UTF-8 (with or without a byte-order mark) and UTF-16 with a BOM are
read as such; anything else that is not valid UTF-8 is read as Windows-1252,
the superset of Latin-1 that Excel writes on Western European systems (bytes
Windows-1252 leaves undefined fall back to Latin-1). A file that still holds
control characters is not text, and is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Control characters a text file never contains (tab, newlines and form feed do).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
DELIMITERS = (",", ";", "\t", "|")
# One-cell lines before the header that are skipped as a preamble, at most.
PREAMBLE_MAX = 20
# A cell may be large (notes), but not a whole file in one quoted field.
CELL_LIMIT = 100_000


class ImportFileError(ValueError):
    """The file cannot be read at all; the message is for the user."""


@dataclass
class DecodedText:
    text: str
    encoding: str


def decode(content: bytes) -> DecodedText:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ImportFileError(_("The file says it is UTF-16 but is not.")) from exc
    else:
        try:
            text, encoding = content.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            text = "".join(_cp1252_or_latin1(content))
            encoding = "windows-1252"
    if _CONTROL.search(text):
        raise ImportFileError(
            _("This is not a text file (it contains control characters). Export it as CSV.")
        )
    return DecodedText(text=text, encoding=encoding)


def _cp1252_or_latin1(content: bytes) -> Iterator[str]:
    # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; Latin-1 maps them.
    for chunk in content.split(b"\n"):
        try:
            yield chunk.decode("cp1252")
        except UnicodeDecodeError:
            yield chunk.decode("latin-1")
        yield "\n"


# --------------------------------------------------------------------------
# CSV


@dataclass
class CsvRow:
    line: int  # the line the record starts on (the header is line 1)
    cells: list[str]


@dataclass
class CsvTable:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[CsvRow] = field(default_factory=list)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , ; tab | outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = started = False
    for char in text[:65536]:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "\r\n":
            if started and any(counts.values()):
                break  # the end of the header (blank lines before it are skipped)
            started = False  # a line without any delimiter: a preamble ("Notes:")
        elif char in counts:
            counts[char] += 1
        if not char.isspace():
            started = True
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(content: bytes) -> CsvTable:
    """Every record of a CSV file, with the line it starts on.

    Raises ImportFileError for what makes the whole file unreadable (encoding,
    an unterminated quote, no header); a record with too many cells is left to
    the importer, which reports it as a bad row.
    """
    decoded = decode(content)
    text = decoded.text
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = CsvTable(encoding=decoded.encoding, delimiter=delimiter, headers=[])
    preamble: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(len(c) > CELL_LIMIT for c in cells):
                raise ImportFileError(
                    _("Line %(line)d holds a cell longer than %(limit)d characters.")
                    % {"line": start, "limit": CELL_LIMIT}
                )
            if not table.headers:
                if not any(c.strip() for c in cells):
                    continue  # blank lines before the header
                if len(cells) == 1 and len(preamble) < PREAMBLE_MAX:
                    # One cell: a preamble (LinkedIn's "Notes:" and its paragraph), or
                    # the header of a one-column file (decided by what follows).
                    preamble.append((start, cells))
                    continue
                if len(cells) == 1:  # more one-cell lines than a preamble: one column
                    table.headers = [_clean_header(c) for c in preamble[0][1]]
                    table.rows = [CsvRow(line=n, cells=c) for n, c in preamble[1:]]
                    table.rows.append(CsvRow(line=start, cells=cells))
                    preamble.clear()
                    continue
                table.headers = [_clean_header(c) for c in cells]
                preamble.clear()
                continue
            if not any(c.strip() for c in cells):
                continue
            table.rows.append(CsvRow(line=start, cells=cells))
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file is broken at line %(line)d: %(reason)s")
            % {"line": reader.line_num, "reason": exc}
        ) from exc
    if not table.headers and preamble:
        # Only one-cell records: a one-column file after all.
        table.headers = [_clean_header(c) for c in preamble[0][1]]
        table.rows = [CsvRow(line=line, cells=cells) for line, cells in preamble[1:]]
    if not table.headers:
        raise ImportFileError(_("The file has no header row."))
    return table


def _clean_header(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split())[:200]


def normalise_header(header: str) -> str:
    """'E-mail address ' → 'e mail address'; 'Organisatie' → 'organisatie'."""
    decomposed = unicodedata.normalize("NFKD", header.lower())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


# --------------------------------------------------------------------------
# vCard


@dataclass
class Card:
    line: int  # the BEGIN:VCARD line
    values: dict[str, str]


VCARD_FIELDS = ["name", "email", "phone", "organization", "title", "notes"]


def read_vcards(content: bytes) -> list[Card]:
    """The cards of a .vcf file (vCard 2.1, 3 and 4), as stakeholder field values.

    Read by `relations.importing.vcard`, which accepts what address books really
    write (CR CR LF line ends, quoted-printable soft breaks, grouped properties).
    A card that cannot be used becomes a card with `values["_error"]`, so the
    importer reports it on its line and imports the others.
    """
    from relations.importing import vcard

    text = decode(content).text
    if "BEGIN:VCARD" not in text.upper():
        raise ImportFileError(_("This is not a vCard file: no BEGIN:VCARD found."))
    cards = []
    for raw in vcard.read_cards(text):
        try:
            values = vcard.card_values(raw)
        except Exception as exc:  # never a 500 for one odd card
            values = {"_error": _("Malformed vCard: %(reason)s") % {"reason": _short(exc)}}
        cards.append(Card(line=raw.line, values=values))
    if not cards:
        raise ImportFileError(_("This is not a vCard file: no complete card found."))
    return cards


def _short(exc: Exception) -> str:
    return (str(exc).splitlines() or [exc.__class__.__name__])[0][:200]
