"""Datasets: a typed example, a spec per dataset, and the registry that maps names to specs.

A user adds a dataset without touching the core::

    @register_dataset
    def my_ner() -> DatasetSpec:
        return DatasetSpec(name="my_ner", task="ner", files={"train": "my_ner/train.txt"},
                           reader=read_bio_columns, labels=("PER", "LOC"))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from anit.errors import BadRecords, DataError, shown
from anit.registry import Registry


@dataclass(frozen=True)
class Example:
    """One sentence or text with its gold structure (entity pairs, triplets, or a label)."""

    id: str
    text: str
    gold: Any


Reader = Callable[[Path, "DatasetSpec", BadRecords], Iterator[Example]]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str
    files: dict[str, str]
    reader: Reader
    labels: tuple[str, ...]
    description: str = ""
    hf_id: str | None = None
    hf_config: str | None = None
    hf_splits: dict[str, str] = field(default_factory=dict)
    hf_reader: Callable[[Any, "DatasetSpec"], Iterator[Example]] | None = None


DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register_dataset(factory: Callable[[], DatasetSpec]) -> Callable[[], DatasetSpec]:
    spec = factory()
    DATASETS.add(spec.name, spec)
    return factory


def default_data_dir() -> Path:
    """``$ANIT_DATA_DIR``, else ``../shared/data`` beside the checkout (from here or the cwd)."""
    if os.environ.get("ANIT_DATA_DIR"):
        return Path(os.environ["ANIT_DATA_DIR"])
    checkout = Path(__file__).resolve().parents[3]
    for candidate in (checkout.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return checkout.parent / "shared" / "data"


def data_root(data_dir: str | Path | None = None) -> Path:
    """The folder the datasets are read from: ``data_dir``, else :func:`default_data_dir`; one that does not exist
    stops with one line saying where it came from."""
    root = Path(data_dir) if data_dir else default_data_dir()
    if not root.is_dir():
        where = "$ANIT_DATA_DIR" if not data_dir and os.environ.get("ANIT_DATA_DIR") else "--data-dir"
        raise DataError(root, None, f"data folder not found ({where}); point it at the folder holding the datasets")
    return root


def split_path(spec: DatasetSpec, split: str, data_dir: Path) -> Path:
    if split not in spec.files:
        raise DataError(spec.name, None, f"no split {split!r}; known splits: {', '.join(spec.files)}")
    return data_dir / spec.files[split]


def load_examples(name: str, split: str, data_dir: str | Path | None = None, path: str | Path | None = None,
                  skip_bad: bool = False, source: str = "files") -> tuple[list[Example], BadRecords]:
    """Read one split: from ``path`` if given, from the hub if ``source == 'hf'``, else from ``data_dir``."""
    spec = DATASETS.get(name)
    bad = BadRecords(skip=skip_bad)
    if source == "hf":
        return list(_from_hub(spec, split)), bad
    file = Path(path) if path else split_path(spec, split, data_root(data_dir))
    if not file.exists():
        raise DataError(file, None, f"{spec.name} {split} split not found (pass --data-dir or --path)")
    return list(spec.reader(file, spec, bad)), bad


def _from_hub(spec: DatasetSpec, split: str) -> Iterator[Example]:
    if not spec.hf_id or spec.hf_reader is None:
        raise DataError(spec.name, None, "this dataset has no Hugging Face source; read it from files")
    import datasets

    hub_split = spec.hf_splits.get(split, split)
    try:
        table = datasets.load_dataset(spec.hf_id, spec.hf_config, split=hub_split)
    except (ConnectionError, OSError, ValueError) as err:
        raise DataError(spec.hf_id, None, f"cannot load split {hub_split!r} from the Hugging Face hub "
                                          f"({shown(str(err).splitlines()[0] if str(err) else type(err).__name__)}); "
                                          "read the files instead (--source files)") from None
    return spec.hf_reader(table, spec)
