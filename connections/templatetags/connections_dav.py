"""The address book's differences, for the connections pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.text import capfirst

from connections.dav_sync import contact_differences
from relations.models import Stakeholder

register = template.Library()


@register.simple_tag
def address_book_differences(user) -> list[dict[str, Any]]:
    """Contacts changed on the server while the stakeholder was edited in Rapport: the
    differences, with each field's label."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = contact_differences(user)
    for entry in found:
        for field in entry["fields"]:
            field["label"] = capfirst(Stakeholder._meta.get_field(field["field"]).verbose_name)
    return found
