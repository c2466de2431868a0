"""Your own extensions, loaded by name: a module path (``my_project.methods``) or a ``.py`` file.

Importing one runs its ``@register_dataset``, ``@register_noise``, ``@register_scorer``, ``@register_method`` (or
``TASKS.register``) decorators, so the names it registers can be used by every command::

    anit data prepare --plugins my_data.py --dataset my_ner --split train --out train.jsonl
    anit train --plugins my_methods.py --method freelb ...

Every command's config is :class:`Pluggable`: ``plugins`` is a field like any other (YAML, ``--plugins``,
``--set plugins=[...]``), imported before anything is looked up by name.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable

from anit.config import check_value, option
from anit.errors import AnitError

_LOADED: set[str] = set()
HELP = ("Python modules or .py files to import first, where your own datasets, tasks, noise types, scorers or "
        "training methods are registered.")


def load_plugins(names: Iterable[str]) -> None:
    """Import each plugin once (a file by its absolute path); a missing one, or one that fails to import, stops
    with one line naming it."""
    for name in names:
        key = str(Path(name).resolve()) if name.endswith(".py") else name
        if key in _LOADED:
            continue
        if key.endswith(".py") and not Path(key).exists():
            raise AnitError(f"plugin {name}: file not found")
        try:
            if key.endswith(".py"):
                spec = importlib.util.spec_from_file_location(f"anit_plugin_{Path(key).stem}", key)
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - the user's fault becomes one line (_users); anit's own, re-raised
            if isinstance(err, ModuleNotFoundError) and (name == err.name or name.startswith(f"{err.name}.")):
                raise AnitError(f"plugin {name}: no such module ({err})") from None
            said = _users(name, err)
            if said is None:
                raise
            raise said from None
        _LOADED.add(key)


ANIT = str(Path(__file__).parent)


def _users(name: str, err: Exception) -> AnitError | None:
    """The one-line error of a plugin that failed to import, where the fault is the user's: a syntax error, an error
    raised in their own code (the deepest line that is neither anit's nor generated, such as <frozen importlib> or a
    dataclass's <string> __init__, names where), or anit refusing what it registers (AnitError, ValueError: a name
    taken, a Task's instructions a string). None for an error inside anit itself: a bug keeps its traceback."""
    if isinstance(err, SyntaxError):
        return AnitError(f"{err.filename}:{err.lineno}: plugin {name}: {err.msg}")
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith("<")]
    mine = [f for f in frames if not f.filename.startswith(ANIT)]
    if not mine or (frames[-1] is not mine[-1] and not isinstance(err, (AnitError, ValueError))):
        return None
    return AnitError(f"{mine[-1].filename}:{mine[-1].lineno}: plugin {name}: {type(err).__name__}: {err}")


@dataclass
class Pluggable:
    """What every command's config shares: the plugins imported before any registered name is looked up. A
    ``.py`` plugin is kept by its absolute path, so a saved config (an adapter's anit_config.yaml) loads it from
    any working directory."""

    plugins: list[str] = option([], HELP, kw_only=True, path=True)

    def __post_init__(self) -> None:
        load_plugins(self.plugins)
        self.plugins = [str(Path(name).resolve()) if name.endswith(".py") else name for name in self.plugins]
        for field in fields(self):                 # a config made in Python, not by load_config, is checked too
            check_value(field, getattr(self, field.name), f"field {field.name!r}")
