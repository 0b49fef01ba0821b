"""The header search (DESIGN §5a): stakeholders, organisations, interactions and goals
the user may see, grouped, as they type (htmx asks for the results fragment)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relations.pages import is_partial, staff_required
from relations.search.groups import search_results
from relations.search.matching import query_words


@staff_required
@require_GET
def header_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "")[:200]
    context: dict[str, Any] = {"q": query, "searched": bool(query_words(query))}
    if context["searched"]:
        context["results"] = search_results(request.user, query)
        context["found"] = any(context["results"].values())
    if is_partial(request):
        return render(request, "relations/search/results.html", context)
    return render(request, "relations/search/page.html", context)
