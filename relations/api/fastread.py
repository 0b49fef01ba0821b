"""Faster reads for model serializers: the same output, less machinery.

`FieldsOnceMixin` builds a serializer's fields from the model once per class;
`FastReadMixin` is a faster `to_representation`.

Profiling the stakeholder list (issue 9) put half its Python time in DRF's
per-field `get_attribute`, which walks the source path, checks for callables
and wraps foreign keys in `PKOnlyObject` for every field of every row. For the
fields where that machinery cannot change the result this reads the model
attribute directly:

- a concrete, non-relational model field of `Meta.model`, named as its source:
  the attribute; passed through `to_representation` unless the field is a plain
  char/integer/float/boolean field and the value already has that type (their
  `to_representation` is then the identity);
- a `PrimaryKeyRelatedField` on a concrete foreign key (no `pk_field`): the
  key's column (`<name>_id`), which is what `PKOnlyObject.pk` would hold.

Every other field (method fields, many-to-many, nested, `source="*"`, dotted
sources, overridden `to_representation`) goes through DRF unchanged, so the
answers and the OpenAPI schema stay the same.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers

_IDENTITY = {
    drf_fields.CharField.to_representation: str,
    drf_fields.IntegerField.to_representation: int,
    drf_fields.FloatField.to_representation: float,
    drf_fields.BooleanField.to_representation: bool,
}

_ATTR, _ATTR_IDENTITY, _FK, _DRF = range(4)


def _plan_for(serializer: serializers.ModelSerializer) -> list[tuple]:
    model = serializer.Meta.model
    concrete = {f.name: f for f in model._meta.concrete_fields}
    plan = []
    for field in serializer._readable_fields:
        source = field.source_attrs
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
            and type(field).get_attribute is drf_fields.Field.get_attribute
        ):
            identity_type = _IDENTITY.get(type(field).to_representation)
            kind, extra = (_ATTR_IDENTITY, identity_type) if identity_type else (_ATTR, None)
            extra = (model_field.attname, extra)
        plan.append((field, field.field_name, kind, extra))
    return plan


class FieldsOnceMixin:
    """Mix into a ModelSerializer, before it: its fields are built from the model once
    per class, and each instance gets a copy.

    DRF's `ModelSerializer.get_fields` introspects the model and builds every field
    again for each serializer instance: for a stakeholder detail that took as long as
    the row's query (issue 9). The result depends on the class alone (`Meta`, the
    declared fields, the field mapping), so it is kept on the class, and each instance
    gets a deep copy, exactly as DRF treats declared fields: `Field.__deepcopy__`
    creates the field again from its arguments, unbound, with validators shared. Not
    for serializers whose fields depend on the instance, the context or the request.
    """

    def get_fields(self) -> dict:
        cls = type(self)
        fields = cls.__dict__.get("_fields_once")  # this class's own, not a parent's
        if fields is None:
            fields = super().get_fields()
            cls._fields_once = fields
        return copy.deepcopy(fields)


class FastReadMixin:
    """Mix into a ModelSerializer, before it: `to_representation` as DRF's, faster."""

    def to_representation(self, instance: Any) -> dict:
        if not isinstance(instance, models.Model):
            return super().to_representation(instance)
        plan = self.__dict__.get("_fast_read_plan")
        if plan is None:
            plan = self.__dict__["_fast_read_plan"] = _plan_for(self)
        ret = {}
        values = instance.__dict__
        for field, name, kind, extra in plan:
            if kind == _FK:
                ret[name] = values[extra] if extra in values else getattr(instance, extra)
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
