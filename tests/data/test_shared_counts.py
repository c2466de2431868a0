"""Split sizes must match ../shared/data/README.md exactly (skipped where that folder is absent)."""

import pytest

from anit.data import load_examples
from anit.data.base import DATASETS, split_path

EXPECTED = {
    ("conll2003", "train"): 14041, ("conll2003", "dev"): 3250, ("conll2003", "test"): 3453,
    ("ontonotes5", "train"): 59924, ("ontonotes5", "dev"): 8528, ("ontonotes5", "test"): 8262,
    ("nyt", "dev"): 5000, ("nyt", "test"): 5000, ("nyt_star", "dev"): 4999, ("nyt_star", "test"): 5000,
    ("scierc", "train"): 1861, ("scierc", "dev"): 275, ("scierc", "test"): 551,
    ("sst2", "train"): 67349, ("sst2", "dev"): 872, ("sst2", "test"): 1821,
    ("ag_news", "train"): 2000, ("ag_news", "test"): 7600,
    ("aste_14lap", "train"): 906, ("aste_14lap", "dev"): 219, ("aste_14lap", "test"): 328,
    ("aste_14res", "train"): 1266, ("aste_14res", "dev"): 310, ("aste_14res", "test"): 492,
    ("aste_15res", "train"): 605, ("aste_15res", "dev"): 148, ("aste_15res", "test"): 322,
    ("aste_16res", "train"): 857, ("aste_16res", "dev"): 210, ("aste_16res", "test"): 326,
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name,split", sorted(EXPECTED))
def test_split_counts_match_the_shared_readme(shared_data, name, split):
    examples, bad = load_examples(name, split, data_dir=shared_data)
    assert len(examples) == EXPECTED[(name, split)] and bad.count == 0


@pytest.mark.shared_data
def test_nyt_train_is_reported_absent(shared_data):
    for name in ("nyt", "nyt_star"):
        assert not split_path(DATASETS.get(name), "train", shared_data).exists()


@pytest.mark.shared_data
def test_triplet_and_label_totals(shared_data):
    nyt, _ = load_examples("nyt", "test", data_dir=shared_data)
    assert sum(len(e.gold) for e in nyt) == 8120
    sst, _ = load_examples("sst2", "test", data_dir=shared_data)
    assert sum(e.gold == "negative" for e in sst) == 912
    res, _ = load_examples("aste_14res", "test", data_dir=shared_data)
    assert sum(len(e.gold) for e in res) == 994
    sci, _ = load_examples("scierc", "train", data_dir=shared_data)
    assert sum(len(e.gold) for e in sci) == 3219
