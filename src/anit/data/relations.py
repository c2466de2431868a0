"""Relation extraction datasets: NYT (CasRel JSON) and SciERC (DyGIE/PURE JSON lines).

NYT, one JSON array::

    [{"text": "... Bobby Fischer ... Reykjavik , Iceland .",
      "triple_list": [["Bobby Fischer", "/people/person/nationality", "Iceland"]]}]

SciERC, one document per line, document-level inclusive token spans::

    {"doc_key": "...", "sentences": [["This", "paper", ...]], "ner": [[[4, 4, "Generic"]]],
     "relations": [[[4, 4, 6, 8, "USED-FOR"]]]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from anit.data.base import DatasetSpec, Example, register_dataset
from anit.jsonl import numbered_lines
from anit.errors import BadRecords, DataError

NYT_RELATIONS = (
    "/business/company/advisors", "/business/company/founders", "/business/company/industry",
    "/business/company/major_shareholders", "/business/company/place_founded",
    "/business/company_shareholder/major_shareholder_of", "/business/person/company",
    "/location/administrative_division/country", "/location/country/administrative_divisions",
    "/location/country/capital", "/location/location/contains", "/location/neighborhood/neighborhood_of",
    "/people/deceased_person/place_of_death", "/people/ethnicity/geographic_distribution",
    "/people/ethnicity/people", "/people/person/children", "/people/person/ethnicity",
    "/people/person/nationality", "/people/person/place_lived", "/people/person/place_of_birth",
    "/people/person/profession", "/people/person/religion", "/sports/sports_team/location",
    "/sports/sports_team_location/teams",
)
SCIERC_RELATIONS = ("USED-FOR", "FEATURE-OF", "HYPONYM-OF", "PART-OF", "COMPARE", "CONJUNCTION", "EVALUATE-FOR")


def _json_array_line(text: str, index: int) -> int:
    """The line where the ``index``-th top-level object of a JSON array starts (for messages)."""
    depth, seen, line, in_string, escape = 0, -1, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            escape = not escape and char == "\\"
            if char == '"' and not escape:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth == 2:
                seen += 1
                if seen == index:
                    return line
        elif char in "]}":
            depth -= 1
    return line


def read_nyt(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(path, line, f"not UTF-8 ({err.reason})") from None
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"not valid JSON ({err.msg}); expected an array of "
                                          '{"text", "triple_list"} objects') from None
    if not isinstance(items, list):
        raise DataError(path, 1, 'expected a JSON array of {"text", "triple_list"} objects')
    known = set(spec.labels)
    for i, item in enumerate(items):
        problem = _nyt_problem(item, known)
        if problem:
            bad(DataError(path, _json_array_line(text, i), problem))
            continue
        gold = [(s.strip(), r, o.strip()) for s, r, o in item["triple_list"]]
        yield Example(id=f"{spec.name}-{path.stem}-{i}", text=item["text"].strip(), gold=gold)


def _nyt_problem(item: Any, known: set[str]) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or "triple_list" not in item:
        return 'expected an object with "text" (string) and "triple_list"'
    for triple in item["triple_list"]:
        if not (isinstance(triple, list) and len(triple) == 3 and all(isinstance(x, str) for x in triple)):
            return f"expected a triple [subject, relation, object], got {triple!r}"
        if triple[1] not in known:
            return f"unknown relation {triple[1]!r}"
    return None


def read_scierc(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    """One example per sentence; entity spans become sentence text, relations become triplets."""
    known = set(spec.labels)
    for number, line in numbered_lines(path, bad):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            sentences, relations = doc["sentences"], doc["relations"]
            key = doc.get("doc_key", f"line{number}")
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            bad(DataError(path, number, f"expected a JSON object with sentences and relations ({err})"))
            continue
        if len(relations) != len(sentences):
            bad(DataError(path, number, f"{len(relations)} relation lists for {len(sentences)} sentences"))
            continue
        offset = 0
        for index, (tokens, rels) in enumerate(zip(sentences, relations)):
            try:
                gold = [_scierc_triplet(tokens, offset, rel, known) for rel in rels]
            except ValueError as err:
                bad(DataError(path, number, f"sentence {index}: {err}"))
            else:
                yield Example(id=f"{spec.name}-{key}-{index}", text=" ".join(tokens), gold=gold)
            offset += len(tokens)


def _scierc_triplet(tokens: list[str], offset: int, rel: list, known: set[str]) -> tuple[str, str, str]:
    if len(rel) != 5:
        raise ValueError(f"expected [start1, end1, start2, end2, type], got {rel!r}")
    s1, e1, s2, e2, kind = rel
    if kind not in known:
        raise ValueError(f"unknown relation {kind!r}")
    for start, end in ((s1, e1), (s2, e2)):
        if not (offset <= start <= end < offset + len(tokens)):
            raise ValueError(f"span [{start}, {end}] outside the sentence's tokens "
                             f"[{offset}, {offset + len(tokens) - 1}]")
    head = " ".join(tokens[s1 - offset:e1 - offset + 1])
    tail = " ".join(tokens[s2 - offset:e2 - offset + 1])
    return head, kind, tail


def _nyt(name: str, folder: str, description: str) -> DatasetSpec:
    return DatasetSpec(
        name=name, task="re", reader=read_nyt, labels=NYT_RELATIONS, description=description,
        files={s: f"nyt/{folder}/{s}_triples.json" for s in ("train", "dev", "test")},
    )


@register_dataset
def nyt() -> DatasetSpec:
    return _nyt("nyt", "nyt_exact", "NYT (CopyRE split), exact entity spans, 24 relations")


@register_dataset
def nyt_star() -> DatasetSpec:
    return _nyt("nyt_star", "nyt_star", "NYT* (CopyRE split), last word of each entity, 24 relations")


@register_dataset
def scierc() -> DatasetSpec:
    return DatasetSpec(
        name="scierc", task="re", reader=read_scierc, labels=SCIERC_RELATIONS,
        files={s: f"scierc/{s}.json" for s in ("train", "dev", "test")},
        description="SciERC scientific abstracts, 7 relations, one example per sentence",
    )
