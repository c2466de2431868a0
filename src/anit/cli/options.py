"""A command's options declared once: the fields of its config dataclass become its typer options.

    @command_from(EvalConfig)
    def eval_(cfg: EvalConfig) -> None: ...

gives ``anit eval --data F --limit N ... --config run.yaml --set key=value``: every field is an option (its help
and default come from the field), ``--config`` reads a YAML of the fields and ``--set`` overrides any of them; a
value given as an option wins over the YAML, and all of it is validated by :func:`anit.config.load_config`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer

from anit.config import load_config, parse_sets

C = TypeVar("C")


STATED = re.compile(r"\bdefault\b[^:()]*:")
"""A help that states its own default ("default: all", "default by task: ner 0.8, ...") gets none appended."""


def _shown(default: Any) -> str:
    return "none" if default is None else ", ".join(map(str, default)) if isinstance(default, list) else str(default)


def command_from(cls: type[C]) -> Callable[[Callable[[C], None]], Callable[..., None]]:
    hints = typing.get_type_hints(cls)

    def wrap(run: Callable[[C], None]) -> Callable[..., None]:
        params = []
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            optional = hint if type(None) in typing.get_args(hint) else Optional[hint]
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            flag = field.metadata.get("flag") or "--" + field.name.replace("_", "-")
            if hint is bool and "/" not in flag:
                flag = f"{flag}/--no-{flag[2:]}"
            said = default == [] or STATED.search(field.metadata["help"])     # its help says what the default is
            help_ = field.metadata["help"] + ("" if said else f" (default: {_shown(default)})")
            given = typer.Argument(None, help=field.metadata["help"], show_default=False) \
                if field.metadata.get("argument") else typer.Option(None, flag, help=help_, show_default=False)
            params.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, annotation=optional,
                                            default=given))
        params.append(inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                                        default=typer.Option(None, help="YAML file of these fields; options given "
                                                                        "here override it.")))
        params.append(inspect.Parameter("set_", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[list[str]],
                                        default=typer.Option(None, "--set", help="field=value, for any field "
                                                                                 "(repeatable).")))

        @functools.wraps(run)
        def command(**kwargs: Any) -> None:
            config, sets = kwargs.pop("config"), kwargs.pop("set_")
            overrides = {k: v for k, v in kwargs.items() if v is not None and v != [] and v != ()}
            overrides.update(parse_sets(sets))
            run(load_config(cls, config, overrides))

        del command.__wrapped__
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return wrap
