"""Text classification datasets: SST-2 (GLUE TSV) and AG News (headerless CSV).

SST-2 ``sentence<TAB>label`` (the labelled test adds an ``index`` column first)::

    it 's a charming and often affecting journey . <TAB>1

AG News ``"class","title","description"``, classes 1-4::

    "3","Fears for T N pension after talks","Unions representing workers at ..."
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

from anit.data.base import DatasetSpec, Example, register_dataset
from anit.jsonl import numbered_lines
from anit.errors import BadRecords, DataError, shown

SST2_LABELS = ("negative", "positive")
AG_NEWS_LABELS = ("World", "Sports", "Business", "Sci/Tech")


def read_sst2(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    header: list[str] | None = None
    for number, line in numbered_lines(path, bad):
        columns = line.split("\t")
        if header is None:
            header = [c.strip() for c in columns]
            if "sentence" not in header or "label" not in header:
                raise DataError(path, number, f"expected a header with 'sentence' and 'label', got {shown(line)!r}")
            continue
        if not line.strip():
            continue
        if len(columns) != len(header):
            bad(DataError(path, number, f"expected {len(header)} tab-separated columns, got {len(columns)}"))
            continue
        row = dict(zip(header, columns))
        label = row["label"].strip()
        if label not in ("0", "1"):
            bad(DataError(path, number, f"unknown label {label!r}; expected 0 or 1"))
            continue
        yield Example(id=f"{spec.name}-{path.stem}-{number - 1}", text=row["sentence"].strip(),
                      gold=SST2_LABELS[int(label)])


def read_ag_news(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    lines = (line for _, line in numbered_lines(path, bad))
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row:
            continue
        if len(row) != 3:
            bad(DataError(path, number, f"expected 3 columns class,title,description, got {len(row)}"))
            continue
        label, title, body = row
        if label.strip() not in ("1", "2", "3", "4"):
            bad(DataError(path, number, f"unknown class {label!r}; expected 1, 2, 3 or 4"))
            continue
        text = f"{_unescape(title)}. {_unescape(body)}".strip()
        yield Example(id=f"{spec.name}-{path.stem}-{number}", text=text, gold=AG_NEWS_LABELS[int(label) - 1])


def _unescape(field: str) -> str:
    """AG News marks line breaks with a bare backslash and writes ``$`` as ``#36;`` or ``\\$``."""
    return " ".join(field.replace("\\$", "$").replace("#36;", "$").replace("\\", " ").split())


def _hf_labelled(text_key: str):
    def read(table: Any, spec: DatasetSpec) -> Iterator[Example]:
        for i, row in enumerate(table):
            if not 0 <= row["label"] < len(spec.labels):
                raise DataError(f"{spec.hf_id} (hub)", i + 1, f"label {row['label']}: this split is unlabelled "
                                "(the hub hides test labels as -1), so it cannot be scored; use the labelled file "
                                "with --source files")
            yield Example(id=f"{spec.name}-hf-{i}", text=row[text_key].strip(), gold=spec.labels[row["label"]])

    return read


@register_dataset
def sst2() -> DatasetSpec:
    return DatasetSpec(
        name="sst2", task="tc", reader=read_sst2, labels=SST2_LABELS,
        files={"train": "sst2/train.tsv", "dev": "sst2/dev.tsv", "test": "sst2/test_with_labels.tsv"},
        description="SST-2 (GLUE) binary sentiment; test from the labelled copy",
        hf_id="stanfordnlp/sst2", hf_splits={"dev": "validation"}, hf_reader=_hf_labelled("sentence"),
    )


@register_dataset
def ag_news() -> DatasetSpec:
    return DatasetSpec(
        name="ag_news", task="tc", reader=read_ag_news, labels=AG_NEWS_LABELS,
        files={"train": "ag_news/train_first2000.csv", "test": "ag_news/test.csv"},
        description="AG News topic classification, 4 classes (local train is a 2,000-row prefix)",
        hf_id="fancyzhx/ag_news", hf_reader=_hf_labelled("text"),
    )
