"""`GET /api/v1/<resource>/csv/`: the list as CSV, with the same filters, search,
ordering and visibility as the list endpoint, all rows (streamed, not paginated)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

from relations.exports.services import chunked, csv_stream


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        # Never reached with data: rows are streamed, errors answered as JSON (below).
        return b""


class CSVOnly(BaseContentNegotiation):
    """The export answers CSV whatever the Accept header says (no 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CsvExportMixin:
    def handle_exception(self, exc: Exception) -> Any:
        # An export's errors (401, a bad filter's 400) answer JSON, as documented for all.
        if getattr(self, "action", None) == "csv_export":
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        filters=True,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="Every row of the list as CSV (UTF-8 with a BOM), with the list's filters, "
        "search and ordering; streamed, not paginated. Text starting with = + - @ is "
        "prefixed with an apostrophe, so spreadsheets do not run it as a formula.",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="csv",
        url_name="csv-export",
        pagination_class=None,
        renderer_classes=[CSVRenderer],
        content_negotiation_class=CSVOnly,
    )
    def csv_export(self, request: Request) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        header = list(self.get_serializer().fields)
        serializer_context = self.get_serializer_context()
        serializer_class = self.get_serializer_class()

        chunks = chunked(queryset)

        def rows():
            for chunk in chunks:
                for row in serializer_class(chunk, many=True, context=serializer_context).data:
                    yield [row.get(name) for name in header]

        return csv_stream(header, rows(), self.basename + "s")
