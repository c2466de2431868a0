"""NER datasets in BIO column format: CoNLL-2003 and OntoNotes 5.

CoNLL-2003 (``token POS chunk NER``; ``-DOCSTART-`` between documents)::

    EU NNP B-NP B-ORG
    rejects VBZ B-VP O

OntoNotes 5 (``token<TAB>tag``, gzip)::

    Across<TAB>B-ORG
    China<TAB>I-ORG
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from anit.data.base import DatasetSpec, Example, register_dataset
from anit.jsonl import numbered_lines
from anit.errors import BadRecords, DataError, shown

CONLL_TYPES = {"PER": "person", "ORG": "organization", "LOC": "location", "MISC": "miscellaneous"}
ONTONOTES_TYPES = ("CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP",
                   "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART")


def bio_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """(type, start, end exclusive) of each entity; an ``I-`` that does not continue starts a new one."""
    spans: list[tuple[str, int, int]] = []
    current: list[Any] | None = None
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and current is not None and current[0] == kind:
            current[2] = i + 1
            continue
        if current is not None:
            spans.append(tuple(current))  # type: ignore[arg-type]
            current = None
        if prefix in ("B", "I"):
            current = [kind, i, i + 1]
    if current is not None:
        spans.append(tuple(current))  # type: ignore[arg-type]
    return spans


def _sentence(tokens: list[str], tags: list[str], spec: DatasetSpec, ident: str) -> Example:
    names = CONLL_TYPES if spec.name == "conll2003" else {}
    gold = [(names.get(kind, kind), " ".join(tokens[start:end])) for kind, start, end in bio_spans(tags)]
    return Example(id=ident, text=" ".join(tokens), gold=gold)


def read_bio_columns(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    """Sentences of a column file: first column the token, last column the BIO tag."""
    raw_types = set(CONLL_TYPES) if spec.name == "conll2003" else set(spec.labels)
    tokens: list[str] = []
    tags: list[str] = []
    broken = False
    count = 0

    def flush() -> Iterator[Example]:
        nonlocal count
        if tokens and not broken:
            yield _sentence(tokens, tags, spec, f"{spec.name}-{path.stem.split('.')[0]}-{count}")
            count += 1

    for number, line in numbered_lines(path, bad):
        if not line.strip():
            yield from flush()
            tokens, tags, broken = [], [], False
            continue
        if line.startswith("-DOCSTART-"):
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if len(columns) < 2:
            broken = True
            bad(DataError(path, number, f"expected 'token ... tag' columns, got {shown(line)!r}"))
            continue
        tag = columns[-1]
        prefix, _, kind = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or kind not in raw_types):
            broken = True
            bad(DataError(path, number, f"unknown tag {tag!r}; expected O or B-/I- with one of "
                                        f"{', '.join(sorted(raw_types))}"))
            continue
        tokens.append(columns[0])
        tags.append(tag)
    yield from flush()


def _hf_conll(table: Any, spec: DatasetSpec) -> Iterator[Example]:
    names = table.features["ner_tags"].feature.names
    for i, row in enumerate(table):
        tags = [names[t] for t in row["ner_tags"]]
        yield _sentence(list(row["tokens"]), tags, spec, f"{spec.name}-hf-{row.get('id', i)}")


@register_dataset
def conll2003() -> DatasetSpec:
    return DatasetSpec(
        name="conll2003", task="ner", reader=read_bio_columns,
        files={"train": "conll2003/train.txt", "dev": "conll2003/valid.txt", "test": "conll2003/test.txt"},
        labels=tuple(CONLL_TYPES.values()), description="CoNLL-2003 English NER, 4 types",
        hf_id="eriktks/conll2003", hf_splits={"dev": "validation"}, hf_reader=_hf_conll,
    )


@register_dataset
def ontonotes5() -> DatasetSpec:
    return DatasetSpec(
        name="ontonotes5", task="ner", reader=read_bio_columns,
        files={s: f"ontonotes5/{s}.txt.gz" for s in ("train", "dev", "test")},
        labels=ONTONOTES_TYPES, description="OntoNotes 5.0 English NER (CoNLL-2012 v4), 18 types",
    )
