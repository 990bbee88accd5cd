"""Checks that stop bad numbers before they reach a network: config fields and non-finite values.

:func:`check_config_fields` runs first in every learner config's ``__post_init__``. It knows
nothing about any one algorithm: it reads each dataclass field's type annotation and rejects
what no field of that type can mean, so a new algorithm's config is covered without a line of
its own. Range checks that depend on a field's meaning (``gamma`` in [0, 1], ...) stay in the
config classes.

=========================== =====================================================================
field annotation            accepted values
=========================== =====================================================================
``float`` (``| None``)      a real, finite number (an int is fine; bool, NaN and +-inf are not)
``int`` (``| None``)        an integer in the signed 64-bit range (an integral float such as the
                            ``1e4`` of a JSON file is converted); fields named ``seed`` or
                            ``*_seed`` must be non-negative
``bool``                    True or False
``str``                     a string
``tuple[int, ...]``         integers; fields named ``*sizes`` (layer widths) need every entry >= 1
``dict``                    a dict
=========================== =====================================================================

A NaN learning rate, entropy weight or gradient-clipping norm does not fail on its own: it
turns every parameter into NaN, and sampling from NaN logits used to return action 0 in every
game, which reads as perfect cooperation. :class:`NonFiniteError` is what the training loop and
the action samplers raise when a non-finite number gets through anyway.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from typing import Any

import numpy as np

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class NonFiniteError(FloatingPointError):
    """A loss, a parameter, a logit or a weight is NaN or infinite; the message says which."""


@functools.cache
def _field_types(config_class: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(config_class)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(config_class))


def check_config_fields(config: Any) -> None:
    """Reject field values of a config dataclass that their type annotation rules out.

    Integral floats in ``int`` fields are converted to ``int`` in place; everything else is
    left as it is. Raises ValueError naming the field and the value (see the module docstring
    for the rules).
    """
    for name, annotation in _field_types(type(config)):
        value = getattr(config, name)
        checked = _check(name, annotation, value)
        if checked is not value:
            setattr(config, name, checked)


def _check(name: str, annotation: Any, value: Any) -> Any:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return value
        inner = [a for a in arguments if a is not type(None)]
        if len(inner) != 1:
            return value  # a true union: nothing generic to say
        annotation, optional = inner[0], type(None) in arguments
        origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    else:
        optional = False
    if annotation is float:
        return _check_float(name, value, optional)
    if annotation is int:
        return _check_int(name, value, optional)
    if annotation is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    if origin is tuple and arguments[:1] == (int,):
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
            raise ValueError(f"{name} must be a sequence of integers, got {value!r}")
        entries = [_check_int(f"each entry of {name}", v, False) for v in value]
        if name.endswith("sizes") and any(v < 1 for v in entries):
            raise ValueError(f"{name} are layer widths and must all be at least 1, got {value!r}")
        return value if list(entries) == list(value) else type(value)(entries)
    if (origin is dict or annotation is dict) and not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict (a JSON object), got {value!r}")
    return value


def _check_float(name: str, value: Any, optional: bool) -> Any:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        expected = "a finite number or None" if optional else "a finite number"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _check_int(name: str, value: Any, optional: bool) -> Any:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if not (math.isfinite(float(value)) and float(value).is_integer()):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        value = int(value)
    if not isinstance(value, numbers.Integral):
        expected = "an integer or None" if optional else "an integer"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    is_seed = name == "seed" or name.endswith("_seed")
    low = 0 if is_seed else INT64_MIN
    if not low <= int(value) <= INT64_MAX:
        bounds = "[0, 2**63)" if is_seed else "the signed 64-bit range"
        raise ValueError(f"{name} must be in {bounds}, got {value}")
    return value


__all__ = ["NonFiniteError", "check_config_fields"]
