"""The one text matching of Rapport's searches (DESIGN §5a): the header search and the
list pages' filters use it, so "dubois chloe", "Dubois  Chloé" and "chloe dubios" all
find "Chloé Dubois".

Text and query are folded alike: lower case, accents dropped (`rapport_fold`, a SQL
function: `lower(unaccent(…))` created by migration 0015 on PostgreSQL, with trigram
indexes on the folded names; registered on each connection on SQLite). Every word of
the query must occur in one of the fields, in any order; in a name (the first field,
unless the caller names others) a word of `TYPO_MIN_LENGTH` letters or more also
matches with one letter wrong, missing, extra or two neighbours swapped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from django.db import models
from django.db.models import Q

# Shorter words get no typo tolerance: "an" with one letter wrong matches almost anything.
TYPO_MIN_LENGTH = 5
# A query is a name or a few words: more words cost SQL and find nothing more.
MAX_WORDS = 6


def fold(text: str | None) -> str:
    """Lower case without accents ("Chloé" → "chloe"); the Python twin of `rapport_fold`."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def query_words(query: str) -> list[str]:
    """The folded words of a query; extra spaces and punctuation between words ignored."""
    words = [w for w in re.split(r"[\s,;]+", fold(query.replace("\x00", ""))) if w]
    return words[:MAX_WORDS]


class Fold(models.Func):
    function = "rapport_fold"
    output_field = models.TextField()


def typo_pattern(word: str) -> str | None:
    """A regular expression matching `word` with at most one typo, or None when short."""
    if len(word) < TYPO_MIN_LENGTH:
        return None
    e = [re.escape(c) for c in word]
    n = len(e)
    variants = set()
    for i in range(n):
        variants.add("".join(e[:i]) + "." + "".join(e[i + 1 :]))  # one letter wrong
        variants.add("".join(e[:i]) + "".join(e[i + 1 :]))  # one letter extra in the query
        if i < n - 1:  # two neighbours swapped
            variants.add("".join(e[:i]) + e[i + 1] + e[i] + "".join(e[i + 2 :]))
    for i in range(n + 1):
        variants.add("".join(e[:i]) + "." + "".join(e[i:]))  # one letter missing
    return "(" + "|".join(sorted(variants)) + ")"


def _related_match(model: type[models.Model], field: str, word: str) -> Q:
    """`relation__name` contains `word`, as ids of the related rows found first through
    their own index: an OR of indexed conditions stays index scans, where a join would
    fold every row (organisation names in the stakeholder search)."""
    relation, name = field.split("__", 1)
    related = model._meta.get_field(relation).related_model
    matching = related.objects.filter(models.lookups.Contains(Fold(name), word))
    ids = list(matching.values_list("pk", flat=True)[: RELATED_ID_LIMIT + 1])
    if len(ids) > RELATED_ID_LIMIT:
        return Q(**{f"{relation}__in": matching.values("pk")})
    return Q(**{f"{relation}__in": ids})


# Past this many related rows, a subquery beats a list of ids in the statement.
RELATED_ID_LIMIT = 500


def text_matches(
    fields: Sequence[str],
    query: str,
    *,
    extra: dict | None = None,
    typo_fields: Sequence[str] | None = None,
    model: type[models.Model] | None = None,
) -> Q | None:
    """The condition "every word of `query` is in one of `fields`" (folded), or None for
    an empty query. `extra` maps a field to a Q that must hold for that field to count
    (a private interaction's notes count only for those who may read them).

    Typos are tolerated in `typo_fields` only (by default the first field, the name):
    a regular expression over long free text (notes, descriptions) costs a scan of
    every row and finds mostly noise."""
    typo_fields = fields[:1] if typo_fields is None else typo_fields
    words = query_words(query)
    if not words:
        return None
    condition = Q()
    for word in words:
        pattern = typo_pattern(word)
        any_field = Q()
        for field in fields:
            if model is not None and "__" in field:
                any_field |= _related_match(model, field, word)
                continue
            folded = Fold(field)
            match = Q(models.lookups.Contains(folded, word))
            if pattern and field in typo_fields:
                match |= Q(models.lookups.Regex(folded, pattern))
            if extra and field in extra:
                match &= extra[field]
            any_field |= match
        condition &= any_field
    return condition


def search(queryset: models.QuerySet, fields: Sequence[str], query: str, **kw) -> models.QuerySet:
    """`queryset` narrowed to the rows matching `query` (unchanged for an empty query)."""
    condition = text_matches(fields, query, model=queryset.model, **kw)
    return queryset if condition is None else queryset.filter(condition)


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """`rapport_fold` on SQLite, where migrations cannot create SQL functions."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("rapport_fold", 1, fold, deterministic=True)
