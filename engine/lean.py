"""Pydantic models that keep no set of field names per instance.

pydantic v2 stores on every instance the names of the fields its input gave
(`__pydantic_fields_set__`, a `set`: 216 bytes empty, 728 with five to eighteen names). A
10,000-table schema is 760,000 model instances, and those sets were 300 MB of its 600 MB.
A `LeanModel` drops the set validation builds the moment pydantic stores it and answers with
every field name instead: right for what pg-flux builds (an inspected object has every
attribute the catalog gives; `model_fields_set` and `exclude_unset` are never used for
them). The answer is a new set each time, so pydantic's `model_copy(update=...)`, which adds
to it, changes nothing shared.
"""

from __future__ import annotations

import functools
import operator

from pydantic import BaseModel


@functools.cache
def _field_names(cls: type[BaseModel]) -> frozenset[str]:
    return frozenset(cls.model_fields)


def _every_field(self: BaseModel) -> set[str]:
    return set(_field_names(type(self)))


class LeanModel(BaseModel):
    # A data descriptor on the class wins over BaseModel's slot, for pydantic-core's
    # validation too (it stores the set with PyObject_GenericSetAttr). The setter is a C
    # function of (instance, value) that keeps nothing: no Python frame per instance.
    __pydantic_fields_set__ = property(_every_field, operator.is_)  # type: ignore[arg-type]


def stores_field_set(instance: BaseModel) -> bool:
    """Whether `instance` holds a field set of its own (pydantic's slot is filled)."""
    slot = BaseModel.__dict__["__pydantic_fields_set__"]
    try:
        slot.__get__(instance, type(instance))
    except AttributeError:
        return False
    return True
