"""Your own extensions, loaded by name: a module path (``my_project.methods``) or a ``.py`` file.

Importing one runs its ``@register_method``, ``@register_noise`` and ``@register_scorer`` decorators, so the names
it registers can be used on the command line (``anit train --set plugins=[my_methods.py] --method freelb``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Iterable

from anit.errors import AnitError

_LOADED: set[str] = set()


def load_plugins(names: Iterable[str]) -> None:
    """Import each plugin once; a missing one stops with its name."""
    for name in names:
        if name in _LOADED:
            continue
        if name.endswith(".py"):
            path = Path(name)
            if not path.exists():
                raise AnitError(f"plugin {name}: file not found")
            spec = importlib.util.spec_from_file_location(f"anit_plugin_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as err:
                raise AnitError(f"plugin {name}: no such module ({err})") from None
        _LOADED.add(name)
