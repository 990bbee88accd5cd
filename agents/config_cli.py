"""Command-line options generated from config dataclasses (types, defaults, field docstrings).

Each field of a config becomes ``--field-name``; its type picks the parser (``bool`` gives
``--x/--no-x``, ``tuple[int, ...]`` several numbers, ``dict`` a JSON object) and the string
literal under the field (CleanRL style) becomes the help text. Options default to "not given",
so a config is built from the chosen class's own defaults plus what the user typed.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import textwrap
import types
import typing
from collections.abc import Iterable
from typing import Any


def field_docs(config_class: type) -> dict[str, str]:
    """``{field: docstring}`` read from the class bodies of ``config_class`` and its bases."""
    docs: dict[str, str] = {}
    for klass in reversed(config_class.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):  # source unavailable (e.g. a frozen install)
            continue
        body = tree.body[0].body  # type: ignore[attr-defined]
        for statement, following in zip(body, body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = " ".join(following.value.value.split())
    return docs


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _parser_kwargs(annotation: Any) -> dict[str, Any]:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in arguments:
        # an optional field is typed as its value; leaving the option out keeps None
        (inner,) = [a for a in arguments if a is not type(None)]
        return _parser_kwargs(inner)
    if annotation is bool:
        return {"action": argparse.BooleanOptionalAction}
    if annotation in (int, float, str):
        return {"type": annotation}
    if origin is tuple and arguments:
        return {"type": arguments[0], "nargs": "+"}
    if origin is dict or annotation is dict:
        return {"type": _json_object, "metavar": "JSON"}
    raise TypeError(f"no command-line form for config fields of type {annotation!r}")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def option_name(field_name: str) -> str:
    """``num_envs`` -> ``--num-envs``."""
    return "--" + field_name.replace("_", "-")


def add_config_arguments(
    parser: argparse.ArgumentParser,
    config_classes: dict[str, type],
    aliases: dict[str, list[str]] | None = None,
    *,
    exclude: Iterable[str] = (),
    hidden: Iterable[str] = (),
    title: str = "config (generated from the algorithms' config fields)",
) -> None:
    """Add one option per field of any of ``config_classes`` (``{label: class}``).

    A field that only some classes have says so in its help; a default that differs between
    classes is listed per class. Fields in ``exclude`` get no option; those in ``hidden`` are
    accepted but left out of ``--help``.
    """
    aliases = aliases or {}
    exclude, hidden = set(exclude), set(hidden)
    seen: dict[str, dict[str, Any]] = {}
    for label, config_class in config_classes.items():
        hints = typing.get_type_hints(config_class)
        docs = field_docs(config_class)
        for field in dataclasses.fields(config_class):
            if field.name in exclude:
                continue
            entry = seen.setdefault(
                field.name,
                {"type": hints[field.name], "doc": docs.get(field.name, ""), "defaults": {}},
            )
            entry["defaults"][label] = _default(field)
    group = parser.add_argument_group(title)
    for name, entry in seen.items():
        defaults = entry["defaults"]
        values = {json.dumps(v) for v in defaults.values()}
        if len(values) == 1 and len(defaults) == len(config_classes):
            default_text = f"default: {_show(next(iter(defaults.values())))}"
        else:
            default_text = "; ".join(f"{k}: {_show(v)}" for k, v in defaults.items())
            if len(defaults) < len(config_classes):
                default_text = "only " + default_text
        group.add_argument(
            *aliases.get(name, []),
            option_name(name),
            dest=name,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS
            if name in hidden
            else f"{entry['doc']} ({default_text})".replace("%", "%%"),
            **_parser_kwargs(entry["type"]),
        )


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def given_fields(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """Return the config fields the user actually typed (options default to "not given")."""
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def all_field_names(config_classes: Iterable[type]) -> list[str]:
    """Every field name of any of ``config_classes``, in first-seen order."""
    names: dict[str, None] = {}
    for config_class in config_classes:
        names.update((f.name, None) for f in dataclasses.fields(config_class))
    return list(names)
