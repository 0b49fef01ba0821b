"""One Dutch term per concept (docs/glossary.md): no translation of a string that names
a concept uses a Dutch variant the glossary rejected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n.test_i18n import PO, read_po

GLOSSARY = Path(settings.BASE_DIR) / "docs" / "glossary.md"


def glossary_rows() -> list[dict[str, object]]:
    """The table's rows: English term, Dutch term and the rejected variants."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or cells[0] in ("English", "---"):
            continue
        english, dutch, rejected, _definition = cells
        variants = [v.strip() for v in rejected.split(",") if v.strip() not in ("", "—")]
        rows.append({"english": english, "dutch": dutch, "rejected": variants})
    return rows


def uses_english(term: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(term)}(?:s|es)?\b", text, re.IGNORECASE) is not None


def uses_variant(variant: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(variant)}(?:s|n|en)?\b", text, re.IGNORECASE) is not None


def test_the_glossary_lists_concepts_with_one_dutch_term_each():
    rows = glossary_rows()
    assert len(rows) >= 30
    english = [row["english"].lower() for row in rows]
    assert len(english) == len(set(english)), "a concept is listed twice"
    for row in rows:
        assert row["dutch"] and row["dutch"] != "—", row
        assert row["dutch"].lower() not in [v.lower() for v in row["rejected"]], row


@pytest.mark.parametrize(
    "row", [row for row in glossary_rows() if row["rejected"]], ids=lambda row: row["english"]
)
def test_no_translation_uses_a_rejected_variant(row):
    wrong = []
    for entry in read_po(PO):
        source = f"{entry['msgid']} {entry.get('msgid_plural', '')}"
        if not entry["msgid"] or not uses_english(row["english"], source):
            continue
        for translation in entry["msgstr"].values():
            for variant in row["rejected"]:
                if uses_variant(variant, translation):
                    wrong.append(f"{entry['msgid']!r} → {translation!r} ({variant})")
    assert not wrong, f"use “{row['dutch']}” for “{row['english']}”:\n" + "\n".join(wrong)


def test_the_check_catches_a_reintroduced_variant():
    # The matcher itself: the old translations this glossary replaced fail it.
    assert uses_english("key stakeholder", "Key stakeholders for whom they are the only thread")
    assert uses_variant("sleutelstakeholder", "Sleutelstakeholders voor wie zij de enige lijn zijn")
    assert uses_variant("draad", "Enige draad")
    assert uses_variant("contactinterval", "Contactinterval (dagen)")
    assert not uses_variant("auditlog", "Het auditlogboek filteren")
