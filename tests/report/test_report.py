import json

from anit.report.build import by_distortion, write_report


def _results(folder, method, raw, noisy):
    out = folder / method
    out.mkdir(parents=True)
    metrics = {"conditions": {"raw": {"sst2": {"task": "tc", "accuracy": raw}},
                              "noisy-char_typo": {"sst2": {"task": "tc", "accuracy": noisy}}},
               "gaps": {"sst2": {"noisy-char_typo": {"gap": noisy - raw, "low": noisy - raw - 0.1,
                                                     "high": noisy - raw + 0.1}}}}
    (out / "metrics.json").write_text(json.dumps(metrics))
    rows = [{"correct": i % 3 != 0, "distortion": {"word_edit": i / 10}} for i in range(10)]
    (out / "noisy-char_typo.predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_report_has_every_table_and_plot(tmp_path):
    _results(tmp_path / "eval", "it", 0.8, 0.6)
    _results(tmp_path / "eval", "anit", 0.8, 0.75)
    train = tmp_path / "train" / "anit"
    train.mkdir(parents=True)
    (train / "train_summary.json").write_text(json.dumps({"log_history": [{"step": 1, "loss": 2.0},
                                                                          {"step": 2, "loss": 1.5}]}))
    report = write_report([tmp_path / "eval", tmp_path / "train"], tmp_path / "report")
    text = report.read_text()
    assert "## sst2" in text
    assert "| anit | 0.800 | 0.750 | -0.050 |" in text and "| it | 0.800 | 0.600 | -0.200 |" in text
    for png in ("score_by_distortion.png", "distortion_histogram.png", "training_loss.png"):
        assert (tmp_path / "report" / png).stat().st_size > 1000 and png in text
    assert "<table" in (tmp_path / "report" / "report.html").read_text()


def test_by_distortion_bins():
    rows = [{"correct": True, "distortion": {"d": 0.1}}, {"correct": False, "distortion": {"d": 0.15}},
            {"correct": True, "distortion": {"d": 1.0}}]
    assert by_distortion(rows) == [("[0.0, 0.2)", 2, 0.5), ("[0.8, 1.0)", 1, 1.0)]
