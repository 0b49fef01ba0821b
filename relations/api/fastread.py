"""Faster reads for model serializers: the same output, less machinery.

`FieldsOnceMixin` builds a serializer's fields from the model once per class;
`FastReadMixin` is a faster `to_representation`.

Profiling the stakeholder list put half its Python time in DRF's
per-field `get_attribute`, which walks the source path, checks for callables
and wraps foreign keys in `PKOnlyObject` for every field of every row. For the
fields where that machinery cannot change the result this reads the model
attribute directly:

- a concrete, non-relational model field of `Meta.model`, named as its source
  and read through Django's plain descriptor: the attribute; passed through
  `to_representation` unless the field is a plain char/integer/float/boolean
  field and the value already has that type (their `to_representation` is then
  the identity);
- a `PrimaryKeyRelatedField` on a concrete foreign key (no `pk_field`): the
  key's column (`<name>_id`), which is what `PKOnlyObject.pk` would hold;
- DRF's own `DateTimeField` in its default ISO 8601 format, for an aware value:
  the value in the current time zone, `isoformat()` with `Z` for UTC, as DRF's
  `to_representation` writes it (five per stakeholder: a third of a list's time).

Every other field (method fields, many-to-many, nested, `source="*"`, dotted
sources, overridden `to_representation`) goes through DRF unchanged, so the
answers and the OpenAPI schema stay the same.
"""

from __future__ import annotations

import copy
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from rest_framework import ISO_8601, relations
from rest_framework import fields as drf_fields
from rest_framework.settings import api_settings

_IDENTITY = {
    drf_fields.CharField.to_representation: str,
    drf_fields.IntegerField.to_representation: int,
    drf_fields.FloatField.to_representation: float,
    drf_fields.BooleanField.to_representation: bool,
}

# DRF's own `to_representation` of these reads only the field's own arguments (format,
# choices, decimal places), never its parent, the context or the request: one unbound
# copy of the field, kept with the class, serves every serializer instance.
_STANDALONE = {
    *_IDENTITY,
    drf_fields.BigIntegerField.to_representation,
    drf_fields.DecimalField.to_representation,
    drf_fields.DateTimeField.to_representation,
    drf_fields.DateField.to_representation,
    drf_fields.TimeField.to_representation,
    drf_fields.ChoiceField.to_representation,
    drf_fields.JSONField.to_representation,
    drf_fields.UUIDField.to_representation,
}

_ATTR, _ATTR_IDENTITY, _FK, _DRF, _DATETIME = range(5)
_UNSET = object()


def _current_zone() -> tzinfo | None:
    """DateTimeField.default_timezone(): the zone answers are given in."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def _iso_datetime(field: drf_fields.Field) -> bool:
    """Whether the field renders as DRF's own DateTimeField in ISO 8601, in the current
    zone: `to_representation` may then be done inline."""
    return (
        type(field).to_representation is drf_fields.DateTimeField.to_representation
        and type(field).enforce_timezone is drf_fields.DateTimeField.enforce_timezone
        and not hasattr(field, "timezone")
        and getattr(field, "format", api_settings.DATETIME_FORMAT) is not None
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
    )


def _source_attrs(name: str, field: drf_fields.Field) -> list[str]:
    """`field.source_attrs` as `Field.bind` sets it, for a field not bound yet."""
    source = field.source or name
    return [] if source == "*" else source.split(".")


def _plan_for(model: type[models.Model], fields: list[tuple[str, drf_fields.Field]]) -> list[tuple]:
    concrete = {f.name: f for f in model._meta.concrete_fields}
    plan = []
    for name, field in fields:
        source = _source_attrs(name, field)
        model_field = concrete.get(source[0]) if len(source) == 1 else None
        kind = _DRF
        extra: Any = None
        if model_field is None:
            pass
        elif isinstance(field, relations.PrimaryKeyRelatedField):
            if (
                model_field.is_relation
                and model_field.many_to_one
                and field.pk_field is None
                and type(field).to_representation
                is relations.PrimaryKeyRelatedField.to_representation
                and type(field).get_attribute is relations.RelatedField.get_attribute
            ):
                kind, extra = _FK, model_field.attname
        elif (
            not model_field.is_relation
            # A field with a descriptor of its own (files, packed values rendered on
            # read) may hold in __dict__ something else than the attribute gives.
            and model_field.descriptor_class is DeferredAttribute
            and type(field).get_attribute is drf_fields.Field.get_attribute
        ):
            identity_type = _IDENTITY.get(type(field).to_representation)
            if _iso_datetime(field):
                kind, extra = _DATETIME, model_field.attname
            else:
                kind = _ATTR_IDENTITY if identity_type else _ATTR
                extra = (model_field.attname, identity_type)
        plan.append((field, name, kind, extra))
    return plan


class FieldsOnceMixin:
    """Mix into a ModelSerializer, before it: its fields are built from the model once
    per class, and each instance gets a copy.

    DRF's `ModelSerializer.get_fields` introspects the model and builds every field
    again for each serializer instance: for a stakeholder detail that took as long as
    the row's query. The result depends on the class alone (`Meta`, the
    declared fields, the field mapping), so it is kept on the class, and each instance
    gets a deep copy, exactly as DRF treats declared fields: `Field.__deepcopy__`
    creates the field again from its arguments, unbound, with validators shared. Not
    for serializers whose fields depend on the instance, the context or the request.
    """

    def _fields_template(self) -> dict:
        """The class's fields, unbound: copy them before binding or changing one."""
        cls = type(self)
        fields = cls.__dict__.get("_fields_once")  # this class's own, not a parent's
        if fields is None:
            fields = super().get_fields()
            cls._fields_once = fields
        return fields

    def get_fields(self) -> dict:
        return copy.deepcopy(self._fields_template())


class FastReadMixin(FieldsOnceMixin):
    """Mix into a ModelSerializer, before it: `to_representation` as DRF's, faster.

    A serializer that only reads (its `fields` never built) does not build its
    fields at all: copying two dozen fields cost twenty times the reading.
    The plan is made once per class from the class's unbound fields; a field whose
    `to_representation` is DRF's own for its arguments alone (`_STANDALONE`) is used
    as it is, any other one is copied and bound to this serializer, as `fields`
    would, when first needed. Once `fields` is built (a write, or a caller changing
    the fields), the plan is made from them instead.
    """

    def to_representation(self, instance: Any) -> dict:
        if not isinstance(instance, models.Model):
            return super().to_representation(instance)
        if "fields" in self.__dict__:  # DRF's cached_property: built
            plan = self.__dict__.get("_fast_read_plan")
            if plan is None:
                readable = [(f.field_name, f) for f in self._readable_fields]
                plan = self.__dict__["_fast_read_plan"] = _plan_for(self.Meta.model, readable)
        else:
            plan = self.__dict__.get("_fast_read_bound_plan")
            if plan is None:
                # Every row of a list reads the same fields: bound once per serializer.
                plan = self.__dict__["_fast_read_bound_plan"] = [
                    (
                        self._bound_field(name) if field is None and kind != _FK else field,
                        name,
                        kind,
                        extra,
                    )
                    for field, name, kind, extra in self._class_plan()
                ]
        ret = {}
        values = instance.__dict__
        for field, name, kind, extra in plan:
            if kind == _FK:
                ret[name] = values[extra] if extra in values else getattr(instance, extra)
                continue
            if kind == _DATETIME:
                value = values[extra] if extra in values else getattr(instance, extra)
                if value is None:
                    ret[name] = None
                    continue
                zone = self.__dict__.get("_fast_read_zone", _UNSET)
                if zone is _UNSET:  # the zone of the answer: asked once, not per value
                    zone = self.__dict__["_fast_read_zone"] = _current_zone()
                if zone is None or value.utcoffset() is None:
                    ret[name] = field.to_representation(value)
                    continue
                # DRF's DateTimeField.to_representation for its default ISO format.
                try:
                    text = value.astimezone(zone).isoformat()
                except OverflowError:  # DRF's own error
                    ret[name] = field.to_representation(value)
                    continue
                ret[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
                continue
            if kind == _DRF:
                try:
                    attribute = field.get_attribute(instance)
                except drf_fields.SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
                ret[name] = None if check is None else field.to_representation(attribute)
                continue
            attname, identity_type = extra
            value = values[attname] if attname in values else getattr(instance, attname)
            if value is None:
                ret[name] = None
            elif kind == _ATTR_IDENTITY and type(value) is identity_type:
                ret[name] = value
            else:
                ret[name] = field.to_representation(value)
        return ret

    def _class_plan(self) -> list[tuple]:
        cls = type(self)
        plan = cls.__dict__.get("_fast_read_class_plan")
        if plan is None:
            template = self._fields_template()
            readable = [(name, f) for name, f in template.items() if not f.write_only]
            plan = [
                (
                    field
                    if kind in (_ATTR, _ATTR_IDENTITY, _DATETIME)
                    and type(field).to_representation in _STANDALONE
                    else None,
                    name,
                    kind,
                    extra,
                )
                for field, name, kind, extra in _plan_for(self.Meta.model, readable)
            ]
            cls._fast_read_class_plan = plan
        return plan

    def _bound_field(self, name: str) -> drf_fields.Field:
        bound = self.__dict__.setdefault("_fast_read_fields", {})
        field = bound.get(name)
        if field is None:
            field = bound[name] = copy.deepcopy(self._fields_template()[name])
            field.bind(field_name=name, parent=self)
        return field
