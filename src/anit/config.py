"""Typed configuration: dataclasses, filled from defaults, then a YAML file, then command-line overrides.

Each field declares its help text and, where it has them, its allowed values and bounds, through
:func:`option`. A bad value stops at load time with the file, the line and the field::

    run.yaml:4: field 'lr': -1.0 is below the minimum 0.0
    run.yaml:2: field 'method': unknown training method 'anitt'; known: anit, fgm, ...; did you mean 'anit'?
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml

from anit.errors import AnitError
from anit.registry import did_you_mean

C = TypeVar("C")
ALIASES = {"learning_rate": "lr", "num_train_epochs": "epochs", "per_device_train_batch_size": "batch_size",
           "train_batch_size": "batch_size", "gradient_accumulation_steps": "grad_accum", "lora_rank": "lora_r",
           "r": "lora_r", "model_name_or_path": "model", "model_name": "model", "train_file": "data",
           "dataset_path": "data", "output": "output_dir", "warmup": "warmup_ratio", "lr_scheduler_type": "scheduler",
           "steps": "max_steps", "num_steps": "max_steps", "bf16": "dtype", "fp16": "dtype", "torch_dtype": "dtype",
           "load_in_4bit": "quantization", "load_in_8bit": "quantization", "neftune_noise_alpha": "neftune_alpha",
           "target_modules": "lora_targets"}
"""Names other tools (transformers, PEFT, TRL) give a field: an unknown key suggests its field by meaning."""


def option(default: Any, help: str, *, choices: tuple | None = None, min: float | None = None,
           max: float | None = None, flag: str | None = None, path: bool = False, argument: bool = False,
           kw_only: bool = False, check: Callable[[Any], Any] | None = None) -> Any:
    """A dataclass field with its help text, allowed values and bounds (and its command-line flag where it is not
    ``--field-name``, or ``argument``: given without a flag, as ``anit report results/``); ``path`` for a file or
    folder (or a value that may be one, such as a model), whose leading ``~`` is expanded as a shell would (from
    YAML, or ``--data=~/x`` where the shell leaves it); ``kw_only`` for a field a base class gives every config (it
    stays out of their positions); ``check`` for a value only a registry can judge (a method, a noise type): called
    with the value (each item of a list) once the plugins are imported, it raises AnitError, which
    :func:`load_config` prefixes with the file, line and field the value came from."""
    meta = {"help": help, "choices": choices, "min": min, "max": max, "flag": flag, "path": path, "argument": argument,
            "check": check}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta, kw_only=kw_only)
    return dataclasses.field(default=default, metadata=meta, kw_only=kw_only)


def _yaml_lines(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise AnitError(f"{path}{line}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise AnitError(f"{path}:1: expected a mapping of field: value")
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    return data, lines


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except AnitError as err:
                errors.append(str(err))
        raise AnitError(errors[0])
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            raise AnitError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1] or (Any,)
        return [_coerce(v, item, where) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise AnitError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise AnitError(f"{where}: expected true or false, got {value!r}")
    if hint is float:
        if isinstance(value, bool):
            raise AnitError(f"{where}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise AnitError(f"{where}: expected a number, got {value!r}") from None
    if hint is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise AnitError(f"{where}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise AnitError(f"{where}: expected a whole number, got {value!r}") from None
    if hint is str:
        if isinstance(value, (dict, list)):
            raise AnitError(f"{where}: expected text, got {value!r}")
        return str(value)
    return value


def _check(field: dataclasses.Field, value: Any, where: str) -> None:
    meta = field.metadata
    values = value if isinstance(value, list) else [value]
    for item in values:
        if item is None:
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise AnitError(f"{where}: {item!r} is not a finite number")
        if meta.get("choices") and item not in meta["choices"]:
            allowed = ", ".join(map(str, meta["choices"]))
            raise AnitError(f"{where}: {item!r} is not allowed; choose one of {allowed}"
                            f"{did_you_mean(item, meta['choices'])}")
        if meta.get("min") is not None and item < meta["min"]:
            raise AnitError(f"{where}: {item!r} is below the minimum {meta['min']}")
        if meta.get("max") is not None and item > meta["max"]:
            raise AnitError(f"{where}: {item!r} is above the maximum {meta['max']}")


def check_value(field: dataclasses.Field, value: Any, where: str) -> None:
    """Run ``field``'s ``check`` (:func:`option`) on ``value``, or on each of its items; a refusal is one line
    starting with ``where``."""
    check = field.metadata.get("check")
    for item in (value if isinstance(value, list) else [value]) if check else []:
        if item is not None:
            try:
                check(item)
            except AnitError as err:
                raise AnitError(f"{where}: {err}") from None


def _expand_home(value: Any) -> Any:
    """``~`` and ``~user`` at the start of a path (of each, in a list) as the shell expands them."""
    if isinstance(value, list):
        return [_expand_home(item) for item in value]
    return os.path.expanduser(value) if isinstance(value, str) else value


def load_config(cls: type[C], path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Defaults, then ``path`` (YAML), then ``overrides`` (None values are ignored); validated."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    said: dict[str, str] = {}                      # field -> where its value was given
    sources: list[tuple[dict[str, Any], dict[str, int], str]] = []
    if path is not None:
        path = Path(path).expanduser()
        if not path.exists():
            raise AnitError(f"{path}: config file not found")
        data, lines = _yaml_lines(path)
        sources.append((data, lines, str(path)))
    if overrides:
        sources.append(({k: v for k, v in overrides.items() if v is not None}, {}, "command line"))
    for data, lines, origin in sources:
        for key, value in data.items():
            where = f"{origin}:{lines[key]}" if key in lines else origin
            renamed = getattr(cls, "RENAMED", {})
            if key in renamed:
                raise AnitError(f"{where}: field {key!r} was renamed to {renamed[key]!r}")
            if key not in fields:
                alias = ALIASES.get(str(key))
                close = [alias] if alias in fields else difflib.get_close_matches(str(key), fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(fields)}"
                raise AnitError(f"{where}: unknown field {key!r}{hint}")
            label = f"{where}: field {key!r}"
            coerced = _coerce(value, hints[key], label)
            if fields[key].metadata.get("path"):
                coerced = _expand_home(coerced)
            _check(fields[key], coerced, label)
            values[key], said[key] = coerced, label
    if values.get("plugins"):                      # what they register is known before a name is checked
        from anit.plugins import load_plugins

        load_plugins(values["plugins"])
    for key, value in values.items():
        check_value(fields[key], value, said[key])
    try:
        return cls(**values)
    except AnitError as err:        # a check across fields: it names the last source, where one was given
        raise AnitError(f"{sources[-1][2]}: {err}" if sources else str(err)) from None


def parse_sets(pairs: list[str] | None) -> dict[str, Any]:
    """``--set key=value`` pairs to a dict, each value read as YAML (so 3, 0.5, true, [a, b] work)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise AnitError(f"--set {pair!r}: expected key=value")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def dump_config(config: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False), encoding="utf-8")
