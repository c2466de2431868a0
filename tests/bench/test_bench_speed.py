"""bench/speed.py's target check: the lines of docs/ that say whether each speed target of the issue is met."""

from bench.speed import EVALUATION, RULES, SCORES, SFT, TRAINING, target_rows


def training(exact: float = 2.3, fast: float = 1.9, sft: float = 1.2, share: float = 0.52) -> list[dict]:
    return [{"method": "it, length-grouped", "x it step": 1.0, "matmul FLOP/s share": share},
            {"method": "anit (exact), length-grouped", "x it step": exact, "matmul FLOP/s share": 0.2},
            {"method": "anit (fast), length-grouped", "x it step": fast, "matmul FLOP/s share": 0.3},
            {"method": "it, random batches", "x it step": 1.04, "matmul FLOP/s share": 0.5},
            {"method": SFT, "x it step": 1.3, "matmul FLOP/s share": 0.4, "x it random": sft}]


def evaluation(*ratios: float) -> list[dict]:
    return [{"mode": "one at a time", "examples/s": 1.0}] + [
        {"mode": f"batched ({i})", "examples/s": r, "x one at a time": r} for i, r in enumerate(ratios)] + [
        {"mode": "choice scoring (batch 16)", "examples/s": 9.0}]


def checked(sections: list[tuple[str, list[dict]]]) -> dict[str, tuple[float, str]]:
    return {row["target"].split(" at ")[0]: (row["measured"], row["met"]) for row in target_rows(sections)}


def test_every_target_is_read_from_its_section_and_judged():
    sections = [(TRAINING, training()), (f"{EVALUATION}, 48 examples", evaluation(5.4, 4.7)),
                (RULES, [{"noise": "a", "instructions/s": 7e4}, {"noise": "b", "instructions/s": 1.2e4}]),
                (SCORES, [{"scorer": "word_edit", "pairs/s": 2e5}, {"scorer": "bleu", "pairs/s": 6e4},
                          {"scorer": "minilm (cache cold, model loaded)", "pairs/s": 127.0}])]
    rows = target_rows(sections)
    assert len(rows) == 7
    assert [row["met"] for row in rows] == ["yes"] * 7
    assert [row["measured"] for row in rows] == [2.3, 1.9, 1.2, 0.52, 5.4, 1.2e4, 6e4]
    assert rows[0]["bound"] == "<= 3" and rows[-1]["bound"] == ">= 50000"


def test_a_target_past_its_bound_is_not_met():
    marks = checked([(TRAINING, training(exact=3.2, fast=2.1, sft=0.9, share=0.49)),
                     (f"{EVALUATION}, 48 examples", evaluation(4.9)),
                     (SCORES, [{"scorer": "chrf", "pairs/s": 4e4}, {"scorer": "jaccard", "pairs/s": 2e5}])])
    assert marks["exact anit step"] == (3.2, "no")
    assert marks["fast anit step"] == (2.1, "yes")
    assert marks["it"] == (0.9, "no")
    assert marks["it's LoRA step"] == (0.49, "no")
    assert marks["batched evaluation"] == (4.9, "no")
    assert marks["hard scores"] == (4e4, "no")


def test_the_latest_section_of_a_heading_decides_and_unmeasured_targets_are_left_out():
    rows = target_rows([(TRAINING, training(exact=3.5)), (TRAINING, training(exact=2.0))])
    assert [row["target"].split(" at ")[0] for row in rows] == ["exact anit step", "fast anit step", "it",
                                                               "it's LoRA step"]
    assert rows[0]["measured"] == 2.0 and rows[0]["met"] == "yes"
    assert target_rows([]) == []
