"""API of calendar and e-mail capture.

`POST /api/v1/capture/email/` takes one raw RFC 822 message (`Content-Type:
message/rfc822`), as a mail plug-in or a forwarding rule sends it;
`POST /api/v1/capture/calendar/` takes an .ics file (multipart, field `file`).
Both answer with what became of each item, like the browser's result page.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relations.api.serializers import InteractionSerializer
from relations.capture.models import CaptureBatch
from relations.capture.parsing import CaptureError, parse_calendar, parse_email
from relations.capture.services import capture_import
from relations.models import Interaction


class RFC822Parser(parsers.BaseParser):
    """The raw bytes of one e-mail message, at most RAPPORT_CAPTURE_MAX_BYTES."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = settings.RAPPORT_CAPTURE_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(f"The message is larger than {limit} bytes.")
        return raw


class UnmatchedAddressSerializer(serializers.Serializer):
    email = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=["open", "ignored", "created"])


class CaptureItemSerializer(serializers.Serializer):
    subject = serializers.CharField()
    occurred_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["created", "duplicate", "pending", "skipped"])
    reason = serializers.CharField(allow_blank=True)
    interaction = serializers.IntegerField(allow_null=True)
    stakeholders = serializers.ListField(child=serializers.IntegerField())


class CaptureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="The browser page listing what was matched and not.")
    source = serializers.ChoiceField(choices=CaptureBatch.Source.choices)
    items = CaptureItemSerializer(many=True)
    unmatched = UnmatchedAddressSerializer(many=True)


class EmailCaptureSerializer(CaptureSerializer):
    interaction = InteractionSerializer(
        allow_null=True,
        help_text="The interaction created (201) or captured before (200); null while no known "
        "stakeholder took part (202) or when the message was skipped.",
    )


def capture_payload(batch: CaptureBatch) -> dict:
    return {
        "id": batch.pk,
        "url": batch.get_absolute_url(),
        "source": batch.source,
        "items": [
            {
                "subject": item.get("subject", ""),
                "occurred_at": item.get("occurred_at"),
                "outcome": item.get("outcome", "skipped"),
                "reason": item.get("reason", ""),
                "interaction": item.get("interaction"),
                "stakeholders": item.get("stakeholders", []),
            }
            for item in batch.items
        ],
        "unmatched": [
            {"email": a["email"], "name": a.get("name", ""), "status": a["status"]}
            for a in batch.addresses
        ],
    }


ERROR_RESPONSE = OpenApiResponse(
    description="The message or file cannot be read; nothing was imported.",
    response={
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
)


class EmailCaptureView(APIView):
    parser_classes = [RFC822Parser]

    @extend_schema(
        operation_id="capture_email",
        summary="Capture one e-mail as an interaction",
        request={"message/rfc822": {"type": "string", "format": "binary"}},
        responses={
            201: EmailCaptureSerializer,
            200: EmailCaptureSerializer,
            202: EmailCaptureSerializer,
            400: ERROR_RESPONSE,
        },
        examples=[
            OpenApiExample(
                "A forwarded message",
                value="From: sam@example.org\r\nTo: you@example.com\r\nSubject: Hello\r\n"
                "Message-ID: <1@example.org>\r\n\r\nHi!\r\n",
                request_only=True,
                media_type="message/rfc822",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        raw = request.data if isinstance(request.data, bytes) else b""
        try:
            records = parse_email(raw)
        except CaptureError as error:
            raise ValidationError({"message": [str(error)]}) from error
        batch = capture_import(
            by=request.user,
            source=CaptureBatch.Source.EMAIL,
            name=records[0]["subject"],
            records=records,
        )
        item = batch.items[0]
        interaction = None
        if item.get("interaction"):
            interaction = (
                Interaction.objects.visible_to(request.user)
                .prefetch_related("internal_participants", "stakeholders")
                .filter(pk=item["interaction"])
                .first()
            )
        payload = capture_payload(batch)
        payload["interaction"] = (
            InteractionSerializer(interaction, context={"request": request}).data
            if interaction is not None
            else None
        )
        code = {
            "created": status.HTTP_201_CREATED,
            "duplicate": status.HTTP_200_OK,
            "pending": status.HTTP_202_ACCEPTED,
        }.get(item["outcome"], status.HTTP_200_OK)
        return Response(payload, status=code)


class CalendarUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="An iCalendar (.ics) file.")


class CalendarCaptureView(APIView):
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        operation_id="capture_calendar",
        summary="Capture the events of an .ics file as interactions",
        request={"multipart/form-data": CalendarUploadSerializer},
        responses={201: CaptureSerializer, 400: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or isinstance(upload, str):
            raise ValidationError({"file": ["Attach an .ics file in the field `file`."]})
        limit = settings.RAPPORT_CAPTURE_MAX_BYTES
        if upload.size > limit:
            raise ValidationError({"file": [f"The file is larger than {limit} bytes."]})
        try:
            records = parse_calendar(upload.read(limit + 1))
        except CaptureError as error:
            raise ValidationError({"file": [str(error)]}) from error
        batch = capture_import(
            by=request.user,
            source=CaptureBatch.Source.CALENDAR,
            name=upload.name or "calendar.ics",
            records=records,
        )
        return Response(capture_payload(batch), status=status.HTTP_201_CREATED)
