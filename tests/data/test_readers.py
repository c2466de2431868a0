import gzip

import pytest

from anit.data import DATASETS, load_examples
from anit.data.ner import bio_spans
from anit.errors import DataError


def test_conll_sentences_entities_and_docstart(fixture_data):
    examples, _ = load_examples("conll2003", "train", data_dir=fixture_data)
    assert len(examples) == 3
    assert examples[0].text == "Anna Smith visited Paris ."
    assert examples[0].gold == [("person", "Anna Smith"), ("location", "Paris")]
    assert examples[1].gold == [("organization", "United Nations"), ("location", "Geneva"), ("location", "Geneva")]
    assert examples[2].gold == []


def test_ontonotes_gzip_tab_columns(fixture_data):
    examples, _ = load_examples("ontonotes5", "dev", data_dir=fixture_data)
    assert [e.gold for e in examples] == [[("ORG", "Across China")], [("CARDINAL", "Three")]]


def test_bio_spans_handles_stray_inside_tags():
    assert bio_spans(["I-PER", "I-PER", "O", "B-LOC", "I-ORG"]) == [("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 5)]


def test_nyt_scierc_sst2_agnews_aste(fixture_data):
    nyt, _ = load_examples("nyt", "dev", data_dir=fixture_data)
    assert nyt[0].gold == [("Maria Lopez", "/people/person/place_lived", "Madrid"),
                           ("Spain", "/location/location/contains", "Madrid")]
    assert nyt[1].gold == []
    sci, _ = load_examples("scierc", "dev", data_dir=fixture_data)
    assert [e.gold for e in sci] == [[("neural parser", "USED-FOR", "translation")], []]
    assert sci[1].text == "It works ."
    sst, _ = load_examples("sst2", "dev", data_dir=fixture_data)
    assert [(e.text, e.gold) for e in sst] == [("a warm , funny film", "positive"),
                                               ("dull and far too long", "negative")]
    ag, _ = load_examples("ag_news", "test", data_dir=fixture_data)
    assert ag[0].text == "Team wins final. The home side won the cup last night." and ag[0].gold == "Sports"
    assert ag[1].text == "New chip. A faster processor costs $300 or $250." and ag[1].gold == "Sci/Tech"
    aste, _ = load_examples("aste_14res", "dev", data_dir=fixture_data)
    assert aste[0].gold == [("pasta", "great", "positive"), ("service", "slow", "negative")]
    assert aste[1].gold == []


def test_user_path_reads_a_split_absent_from_the_data_dir(fixture_data):
    examples, _ = load_examples("nyt", "train", path=fixture_data / "nyt" / "nyt_exact" / "dev_triples.json")
    assert len(examples) == 2
    with pytest.raises(DataError, match="nyt train split not found"):
        load_examples("nyt", "train", data_dir=fixture_data)


@pytest.mark.parametrize("name,content,expected", [
    ("aste_14res", "A nice screen .####[([5], [1], 'POS')]\n",
     r":1: bad triplet list: token indices \[5\] outside 0..3"),
    ("aste_14res", "A nice screen .####[([2], [1], 'GOOD')]\n", r":1: bad triplet list: unknown sentiment 'GOOD'"),
    ("aste_14res", "no separator here\n", r":1: expected 'sentence####"),
    ("sst2", "sentence\tlabel\ngood\t1\nbad\t7\n", r":3: unknown label '7'; expected 0 or 1"),
    ("conll2003", "Anna NNP B-NP B-PER\nx NN O B-FOO\n", r":2: unknown tag 'B-FOO'"),
    ("nyt", '[{"text": "a b", "triple_list": [["a", "/no/such", "b"]]}]', r":1: unknown relation '/no/such'"),
    ("scierc", '{"sentences": [["a"]], "relations": [[[0, 0, 3, 3, "USED-FOR"]]]}\n', r":1: sentence 0: span \[3, 3\]"),
])
def test_bad_records_name_file_line_and_expectation(tmp_path, name, content, expected):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        load_examples(name, "dev", path=path)


def test_skip_bad_counts_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("A nice screen .####[([2], [1], 'POS')]\nbroken line\nA bad key .####[([2], [1], 'NEG')]\n")
    examples, bad = load_examples("aste_14res", "dev", path=path, skip_bad=True)
    assert len(examples) == 2 and bad.count == 1 and ":2:" in str(bad.first)


def test_wrong_encoding_names_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("sentence\tlabel\ncaf\xe9 ok\t1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.tsv:2: not UTF-8"):
        load_examples("sst2", "dev", path=path)


def test_empty_file_gives_no_examples(tmp_path):
    path = tmp_path / "empty.txt.gz"
    with gzip.open(path, "wb"):
        pass
    assert load_examples("ontonotes5", "dev", path=path)[0] == []


def test_hub_source_converts_rows(monkeypatch):
    datasets = pytest.importorskip("datasets")
    table = datasets.Dataset.from_dict({"sentence": ["great movie ", "awful"], "label": [1, 0], "idx": [0, 1]})
    calls = []

    def fake_load(name, config=None, split=None):
        calls.append((name, config, split))
        return table

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    examples, _ = load_examples("sst2", "dev", source="hf")
    assert calls == [("stanfordnlp/sst2", None, "validation")]
    assert [(e.text, e.gold) for e in examples] == [("great movie", "positive"), ("awful", "negative")]


def test_hub_conll_maps_tag_ids_through_feature_names(monkeypatch):
    datasets = pytest.importorskip("datasets")
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    features = datasets.Features({"id": datasets.Value("string"), "tokens": datasets.Sequence(datasets.Value("string")),
                                  "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})
    table = datasets.Dataset.from_dict({"id": ["0"], "tokens": [["Anna", "Smith", "in", "Rome"]],
                                        "ner_tags": [[1, 2, 0, 5]]}, features=features)
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: table)
    examples, _ = load_examples("conll2003", "test", source="hf")
    assert examples[0].gold == [("person", "Anna Smith"), ("location", "Rome")]


def test_every_dataset_has_a_registered_task():
    from anit.tasks import TASKS

    for name in DATASETS:
        assert DATASETS.get(name).task in TASKS
