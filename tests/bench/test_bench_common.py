"""bench/common.py's merge of re-measured results into docs/: order kept, nothing lost or doubled."""

from bench.common import in_place
from hypothesis import given, strategies as st


def key(item: str) -> str:
    return item.split(":")[0]


def test_in_place_replaces_a_key_where_its_first_item_stood_and_appends_new_keys():
    old = ["a: 1", "b: 1", "a: 2", "c: 1"]
    fresh = {"a": ["a: new"], "d": ["d: 1", "d: 2"]}
    assert in_place(old, fresh, key) == ["a: new", "b: 1", "c: 1", "d: 1", "d: 2"]


def test_in_place_with_nothing_fresh_keeps_old():
    assert in_place(["x: 1", "y: 1"], {}, key) == ["x: 1", "y: 1"]


keys = st.sampled_from("abcde")


@given(st.lists(st.tuples(keys, st.integers(0, 9))), st.dictionaries(keys, st.lists(st.integers(0, 9), max_size=3)))
def test_in_place_keeps_every_other_item_in_order_and_exactly_the_fresh_ones(old_pairs, fresh_values):
    old = [f"{k}:{v}" for k, v in old_pairs]
    fresh = {k: [f"{k}:new{v}" for v in values] for k, values in fresh_values.items()}
    merged = in_place(old, fresh, key)
    assert [item for item in merged if key(item) not in fresh] == [item for item in old if key(item) not in fresh]
    for k, items in fresh.items():
        assert [item for item in merged if key(item) == k] == items
    old_keys = list(dict.fromkeys(key(item) for item in old))
    expected = [k for k in old_keys if fresh.get(k, True)] + [k for k in fresh if k not in old_keys and fresh[k]]
    assert list(dict.fromkeys(key(item) for item in merged)) == expected


def test_each_note_goes_under_the_section_it_names():
    from bench.common import notes_by_section

    headings = ["sst2, 512 test, 20 steps: primary score", "sst2, 20 steps: knob tuning", "ag_news, 512 test: score"]
    notes = ["Wall times: one run.", "sst2, 512 test, 20 steps: anit is worse than it.", "sst2, 20 steps: picked x.",
             "ag_news, 512 test: level.", "qnli: nothing ran."]
    general, placed = notes_by_section(headings, notes)
    assert general == ["Wall times: one run.", "qnli: nothing ran."]
    assert placed == {headings[0]: ["anit is worse than it."], headings[1]: ["picked x."], headings[2]: ["level."]}


def test_benchmarks_page_leads_with_the_answer_then_speed_targets_and_places_notes(tmp_path, monkeypatch):
    import json

    import bench.common as common
    from bench.robustness_page import ANSWER

    machine = {"cpu": "cpu", "cores": 2, "threads": 2, "torch": "2", "cuda": None, "python": "3.11", "date": "d"}
    docs = tmp_path / "docs"
    (docs / "benchmarks").mkdir(parents=True)
    (docs / "benchmarks" / f"{ANSWER}.json").write_text(json.dumps({
        "settings": {"steps": 180, "test_tc": 128, "test_ext": 48, "dev_tc": 32, "dev_ext": 16},
        "verdicts": {"generate": [{"dataset": "sst2", "outcome": "not judged", "text": "sst2: it loses 5%."}]},
        "in_short": {"generate": "**In short: halves it on 1.**"},
        "headline": {"generate": "Answer so far: not judged."}}))
    section = {"command": "python -m bench.quality", "machine": machine}
    (docs / "benchmarks" / "quality.json").write_text(json.dumps({"title": "Quality", "notes": [
        "sst2, 60 steps: anit is level with it.", "Wall times: one run."], "sections": [
        {**section, "heading": "sst2, 60 steps: knob tuning on dev (seed 0)", "rows": [{"knobs": "a"}]},
        {**section, "heading": "sst2, 60 steps", "rows": [{"raw": 0.81234}]}]}))
    (docs / "benchmarks" / "speed.json").write_text(json.dumps({"title": "Speed", "notes": [], "sections": [
        {**section, "heading": "Training step", "rows": [{"tokens/s": 93451.0}]},
        {**section, "heading": "Targets", "rows": [{"met": "yes"}]}]}))
    monkeypatch.setattr(common, "DOCS", docs)
    common.render()
    page = (docs / "BENCHMARKS.md").read_text()
    order = [page.index(x) for x in ("## Robustness: the answer",
                                     "**In short: halves it on 1.** Answer so far: not judged.",
                                     "- sst2: it loses 5%.", "## Speed", "### Targets",
                                     "### Training step", "## Quality", "### sst2, 60 steps")]
    assert order == sorted(order)
    assert ("Multi-task LoRA (180 steps, test 128/48, dev 32/16 records per classification/extraction dataset)"
            in page)
    assert "| 93k |" in page and "| 0.812 |" in page and "Same command and machine as above." in page
    assert page.index("- anit is level with it.") > page.index("### sst2, 60 steps")
    assert "knob tuning" not in page.split("Per-run detail")[0] and "quality-detail.md" in page
    assert "| a |" in (docs / "benchmarks" / "quality-detail.md").read_text()


def test_a_benchmark_stopped_with_ctrl_c_exits_130_with_one_line(capsys):
    import pytest

    from bench.common import INTERRUPTED, run_benchmark

    def stopped():
        raise KeyboardInterrupt

    for resumable, said in ((True, "interrupted; the stages it finished are kept: run the same command to continue\n"),
                            (False, "interrupted\n")):
        with pytest.raises(SystemExit) as stop:
            run_benchmark(stopped, resumable)
        assert stop.value.code == INTERRUPTED == 130 and capsys.readouterr().err == said
    run_benchmark(lambda: None)  # a finished one returns
