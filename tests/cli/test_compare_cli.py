"""``anit compare`` on a user's own records with a tiny model: every method per seed, each model attacked and scored
with its own adapter, each compared with the baseline of its seed; a rerun keeps what is done."""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402

from anit.cli import app  # noqa: E402

runner = CliRunner()
WORDS = ["a warm funny film", "dull and far too long", "a delight from start to end", "a tedious mess",
         "sharp and moving", "flat jokes and no story"]


def _records(n, start):
    return [{"id": f"r{start + k}", "dataset": "reviews", "task": "tc", "options": ["negative", "positive"],
             "input": f"{WORDS[(start + k) % len(WORDS)]} ({start + k})",
             "output": "positive" if (start + k) % 2 == 0 else "negative"} for k in range(n)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    model = tiny.build(root / "model", chat=True)
    files = {}
    for split, (n, start) in {"train": (12, 0), "dev": (6, 100), "test": (6, 200)}.items():
        plain = root / f"{split}.plain.jsonl"
        plain.write_text("".join(json.dumps(r) + "\n" for r in _records(n, start)))
        files[split] = root / f"{split}.jsonl"
        result = runner.invoke(app, ["noise", "build", "--in", str(plain), "--noise", "char_typo:0.3", "--noise",
                                     "truncate_random:0.3", "--out", str(files[split])], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    config = root / "train.yaml"
    config.write_text("max_steps: 2\nbatch_size: 4\nlr: 0.01\nmax_length: 128\nsave_steps: 1\n")
    args = ["compare", "--train", str(files["train"]), "--dev", str(files["dev"]), "--test", str(files["test"]),
            "--model", str(model), "--train-config", str(config), "--methods", "it", "--methods", "anit",
            "--seeds", "0", "--seeds", "1", "--budget", "2", "--rewrites", "0", "--top-k", "1",
            "--scoring", "choice", "--attack-scoring", "choice",    # the tiny model generates noise: rank the labels
            "--near", "0.5",
            "--out", str(root / "out")]
    return root, model, files, args


def test_compare_trains_each_method_per_seed_and_compares_it_with_the_baseline_of_its_seed(setup):
    root, model, files, args = setup
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = root / "out"
    for seed in (0, 1):
        for method in ("it", "anit"):
            saved = (out / f"seed{seed}" / method / "adapter" / "anit_config.yaml").read_text()
            assert f"seed: {seed}\n" in saved and f"method: {method}\n" in saved and "max_steps: 2\n" in saved
            metrics = json.loads((out / "results" / f"seed{seed}" / method / "metrics.json").read_text())
            assert {"raw", "noisy", "unseen-tc-0", "worst-tc-0", "near-tc-0"} <= set(metrics["conditions"])
            near = json.loads((out / f"seed{seed}" / method / "near" / "attack.json").read_text())
            assert near["tasks"]["tc"]["ranked"] and all(max(row["distortion"].values()) <= 0.5
                                                        for row in near["tasks"]["tc"]["ranked"])
    assert "[done]   train anit, seed 1" in result.output and "report:" in result.output
    report = (out / "report" / "report.md").read_text()
    assert "| reviews | anit (2 seeds) |" in report and "Over seeds (seed0, seed1)" in report
    short = next(line for line in report.splitlines() if line.startswith("- **anit: "))
    assert short[2:].replace("**", "") in result.output          # the glance's sentence is printed with its table
    # each model was scored with its own adapter: the same numbers as `anit eval` of that adapter alone
    alone = root / "alone"
    worst = out / "seed1" / "anit" / "worst.yaml"
    result = runner.invoke(app, ["eval", "--adapter", str(out / "seed1" / "anit" / "adapter"), "--data",
                                 str(files["test"]), "--instructions", "raw", "--instructions", str(worst),
                                 "--scoring", "choice", "--out", str(alone)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    mine = json.loads((out / "results" / "seed1" / "anit" / "metrics.json").read_text())["conditions"]
    theirs = json.loads((alone / "metrics.json").read_text())["conditions"]
    assert mine["raw"] == theirs["raw"] and mine["worst-tc-0"] == theirs["worst-tc-0"]
    rows = {json.loads(line)["id"]: json.loads(line)["generation"]
            for line in (out / "results" / "seed1" / "anit" / "raw.predictions.jsonl").read_text().splitlines()}
    assert rows == {json.loads(line)["id"]: json.loads(line)["generation"]
                    for line in (alone / "raw.predictions.jsonl").read_text().splitlines()}
    # each seed trained its own adapter (another init and data order)
    from safetensors.torch import load_file

    first, second = (load_file(str(out / f"seed{s}" / "anit" / "adapter" / "adapter_model.safetensors"))
                     for s in (0, 1))
    assert any(not (first[k] == second[k]).all() for k in first)

    # a rerun keeps every stage; a larger attack budget reruns the attacks and the evaluations, not the training
    adapter = out / "seed0" / "it" / "adapter" / "adapter_model.safetensors"
    before = adapter.stat().st_mtime_ns
    again = runner.invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 0 and "[done]" not in again.output and again.output.count("[cached]") == 16
    wider = runner.invoke(app, [a if a != "2" else "3" for a in args], catch_exceptions=False)
    assert wider.exit_code == 0
    assert wider.output.count("[cached] train") == 4 and wider.output.count("[done]   attack") == 8
    assert adapter.stat().st_mtime_ns == before
    # other training settings retrain, and what the old adapters' attacks and scores left is not reused
    stale = [out / "seed0" / "it" / "attack" / "stale", out / "results" / "seed0" / "it" / "stale"]
    for path in stale:
        path.write_text("from the adapter trained before")
    other = root / "other.yaml"
    other.write_text((root / "train.yaml").read_text().replace("lr: 0.01", "lr: 0.02"))
    retrained = runner.invoke(app, [str(other) if a == str(root / "train.yaml") else a for a in args],
                             catch_exceptions=False)
    assert retrained.exit_code == 0 and retrained.output.count("[done]   train") == 4
    assert not any(path.exists() for path in stale) and adapter.stat().st_mtime_ns != before
    assert "lr: 0.02" in (out / "seed0" / "it" / "adapter" / "anit_config.yaml").read_text()


def test_with_jobs_the_runs_go_to_worker_processes_and_come_out_as_they_do_one_after_another(setup):
    root, model, files, args = setup
    one = [a if a != str(root / "out") else str(root / "one") for a in args]
    one = [a for k, a in enumerate(one) if not (a == "--seeds" or (k and one[k - 1] == "--seeds"))]
    one += ["--seeds", "3", "--transfer"]
    result = runner.invoke(app, one, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    both = [a if a != str(root / "one") else str(root / "both") for a in one] + ["--jobs", "2"]
    result = runner.invoke(app, both, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 runs, 2 at a time" in result.output and "| reviews | anit |" in result.output
    for method in ("it", "anit"):
        alone, parallel = (json.loads((root / where / "results" / "seed3" / method / "metrics.json").read_text())
                           for where in ("one", "both"))
        assert alone["conditions"] == parallel["conditions"]
        assert same(root, f"seed3/{method}/worst.yaml") and "worst-tc-0" in alone["conditions"]
        # transfer: every model also under it's worst instructions of its seed (it itself: its own worst again)
        theirs = (root / "one" / "seed3" / "it" / "worst.yaml").read_text()
        assert (root / "one" / "seed3" / method / "worst-of-it.yaml").read_text() == theirs
        transfer = {c: m for c, m in alone["conditions"].items() if c.startswith("worst-of-it-")}
        assert len(transfer) == len([c for c in alone["conditions"] if c.startswith("worst-tc-")]) >= 1
        if method == "it":
            assert transfer == {c.replace("worst-", "worst-of-it-"): m for c, m in alone["conditions"].items()
                                if c.startswith("worst-tc-")} and "transfer" not in alone
        else:
            assert alone["transfer"]["worst-of-it"]["adapter"] == str(root / "one" / "seed3" / "it" / "adapter")
    assert same(root, "report/report.md")
    report = (root / "one" / "report" / "report.md").read_text()
    assert "| reviews | anit | worst-of-it |" in report
    assert re.search(r"- Transfer: worst-of-it instructions searched on \S+ \+ \S+/one/seed3/it/adapter, not on the "
                     r"model scored: (seed3/)?anit\.\n", report)
    # a rerun keeps everything, though the first time anit was scored under it's worst in a second wave
    kept = (root / "both" / "results" / "seed3" / "anit" / "metrics.json").stat().st_mtime_ns
    again = runner.invoke(app, both, catch_exceptions=False)
    assert again.exit_code == 0 and (root / "both" / "results" / "seed3" / "anit" / "metrics.json").stat(
        ).st_mtime_ns == kept
    # in parallel anit may end first: the report so far compares with the baseline once one of its runs is scored
    from anit.compare import CompareConfig, report

    cfg = CompareConfig(train=str(files["train"]), dev=str(files["dev"]), test=str(files["test"]), seeds=[3],
                        out=str(root / "so-far"))
    shutil.copytree(root / "one" / "results" / "seed3" / "anit", root / "so-far" / "results" / "seed3" / "anit")
    assert "## At a glance" not in report(cfg).read_text()
    shutil.copytree(root / "one" / "results" / "seed3" / "it", root / "so-far" / "results" / "seed3" / "it")
    assert "## At a glance: against it" in report(cfg).read_text()


def same(root, path):
    """Whether ``path`` holds the same in both comparisons, but for the folder it names (its adapter's, say)."""
    one, both = ((root / where / path).read_text() for where in ("one", "both"))
    return both.replace(str(root / "both"), str(root / "one")) == one


def test_in_parallel_a_run_waits_for_the_baselines_attack_only_for_the_transfer(setup, monkeypatch, tmp_path):
    from anit.compare import CompareConfig, borrowed, compare

    root, model, files, args = setup
    waves = []
    monkeypatch.setattr("anit.parallel.run_all", lambda calls, jobs, ended: waves.append(
        {label: call[1][-1] for label, call in calls.items()}))
    monkeypatch.setattr("anit.compare.report", lambda cfg: None)
    cfg = CompareConfig(train=str(files["train"]), dev=str(files["dev"]), test=str(files["test"]), model=str(model),
                        seeds=[0, 1], jobs=2, out=str(tmp_path))
    every = ["it, seed 0", "anit, seed 0", "it, seed 1", "anit, seed 1"]
    compare(cfg)
    assert waves == [dict.fromkeys(every, True)]
    waves.clear()
    cfg.transfer = True
    compare(cfg)         # it's attacks are yet to run: anit is scored under them in a second wave
    assert waves == [{"it, seed 0": True, "anit, seed 0": False, "it, seed 1": True, "anit, seed 1": False},
                     {"anit, seed 0": True, "anit, seed 1": True}]
    waves.clear()
    borrowed(cfg, 1).parent.mkdir(parents=True)
    borrowed(cfg, 1).write_text("tc: []\n")
    compare(cfg)         # seed 1's is there
    assert waves == [{"it, seed 0": True, "anit, seed 0": False, "it, seed 1": True, "anit, seed 1": True},
                     {"anit, seed 0": True}]


def test_a_training_run_stopped_midway_resumes_from_its_checkpoint(setup, monkeypatch):
    from anit.compare import CompareConfig, plan, train_run
    from anit.stages import digest, file_digest

    root, model, files, args = setup
    cfg = CompareConfig(train=str(files["train"]), dev=str(files["dev"]), test=str(files["test"]),
                        model=str(model), train_config=str(root / "train.yaml"), seeds=[5],
                        out=str(root / "stopped"))
    run = plan(cfg).runs[(5, "it")]
    out = Path(run.output_dir)
    (out / "checkpoint-1").mkdir(parents=True)           # a run with these settings stopped after its first step
    (out / "started.stamp").write_text(digest({"config": vars(run), "data": file_digest(run.data)}))
    seen = []
    monkeypatch.setattr("anit.training.run.train", lambda c: seen.append(c.resume))
    train_run(run, print, "train it")
    assert seen == [True] and (out / "checkpoint-1").exists()
    (out / "started.stamp").write_text("other settings")   # one with other settings starts afresh, its folder emptied
    train_run(run, print, "train it")
    assert seen == [True, False] and not (out / "checkpoint-1").exists()


@pytest.mark.parametrize("extra, message", [
    (["--methods", "it"], "methods: only it; name the baseline and at least one method"),
    (["--methods", "it", "--methods", "freelb2"], "freelb2"),
    (["--methods", "it", "--methods", "anit", "--seeds", "0", "--seeds", "0"], "seeds: [0, 0]"),
    (["--methods", "it", "--methods", "anit", "--dev", "missing.jsonl"], "missing.jsonl"),
    (["--methods", "it", "--methods", "anit", "--instructions", "raw", "--instructions", "typo-pool"], "typo-pool"),
])
def test_bad_settings_stop_with_one_line_before_any_model_loads(setup, no_model_loads, extra, message):
    root, model, files, args = setup
    kept = {"--train": str(files["train"]), "--test": str(files["test"]), "--dev": str(files["dev"]),
            "--model": str(model), "--out": str(root / "bad")}
    kept.update(dict(zip(extra[::2], extra[1::2])))
    given = [x for pair in kept.items() for x in pair if pair[0] not in ("--methods", "--seeds", "--instructions")]
    given += [x for k in range(0, len(extra), 2) if extra[k] in ("--methods", "--seeds", "--instructions")
              for x in extra[k:k + 2]]
    result = runner.invoke(app, ["compare"] + given)
    assert result.exit_code != 0 and message in str(result.exception or result.output)


def test_records_a_method_cannot_train_on_stop_it_before_any_run_trains(setup, no_model_loads):
    root, model, files, args = setup
    plain = [str(root / "train.plain.jsonl") if a == str(files["train"]) else a for a in args]
    result = runner.invoke(app, [a if a != str(root / "out") else str(root / "plain") for a in plain])
    assert result.exit_code != 0 and "train.plain.jsonl: no record has a noisy_instruction" in str(result.exception)
    assert not (root / "plain").exists()       # it, the baseline, did not train first



def test_with_noise_compare_noises_plain_records_as_noise_build_would_and_a_rerun_keeps_every_stage(setup):
    root, model, files, args = setup
    plain = {split: str(root / f"{split}.plain.jsonl") for split in ("train", "dev", "test")}
    given = [plain["train"] if a == str(files["train"]) else plain["test"] if a == str(files["test"]) else
             str(root / "noised") if a == str(root / "out") else a for a in args]
    given = given[:given.index("--seeds")] + ["--seeds", "0"] + given[given.index("--seeds") + 4:]
    noise = ["--noise", "char_typo:0.3", "--noise", "truncate_random:0.3"]
    result = runner.invoke(app, given + noise + ["--noise-seed", "11"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "noise: 12 of 12 train records noised (char_typo:0.3, truncate_random:0.3; distortion word_edit)" \
        in result.output
    for split in ("train", "test"):          # what `anit noise build` writes with one type drawn per record
        by_hand = root / f"{split}.by-hand.jsonl"
        built = runner.invoke(app, ["noise", "build", "--in", plain[split], *noise, "--mix", "per-example",
                                    "--seed", "11", "--out", str(by_hand)], catch_exceptions=False)
        assert built.exit_code == 0, built.output
        assert (root / "noised" / "data" / f"{split}.jsonl").read_text() == by_hand.read_text()
    saved = (root / "noised" / "seed0" / "anit" / "adapter" / "anit_config.yaml").read_text()
    assert f"data: {root / 'noised' / 'data' / 'train.jsonl'}\n" in saved
    metrics = json.loads((root / "noised" / "results" / "seed0" / "anit" / "metrics.json").read_text())
    assert {"noisy-char_typo", "noisy-truncate_random", "noisy"} <= set(metrics["conditions"])
    again = runner.invoke(app, given + noise + ["--noise-seed", "11"], catch_exceptions=False)
    assert again.exit_code == 0 and "[cached] train anit, seed 0" in again.output
    assert "[cached] evaluate anit, seed 0" in again.output and "[done]" not in again.output


def test_plain_test_records_under_the_noisy_condition_name_the_file_and_the_way_out(setup, no_model_loads):
    root, model, files, args = setup
    given = [str(root / "test.plain.jsonl") if a == str(files["test"]) else a for a in args]
    result = runner.invoke(app, given)
    assert result.exit_code != 0
    assert str(result.exception).startswith(f"{root / 'test.plain.jsonl'}: --instructions noisy: no record has a "
                                            "noisy_instruction")
    assert str(result.exception).endswith("or give --noise TYPE:RATE and compare noises them")


def test_a_run_whose_save_steps_would_save_no_checkpoint_before_its_end_saves_one_every_sixth_of_its_steps(setup):
    from anit.compare import CompareConfig, plan

    root, model, files, args = setup
    fields = dict(train=str(files["train"]), dev=str(files["dev"]), test=str(files["test"]), model=str(model),
                  seeds=[0], out=str(root / "saving"))
    bare = root / "bare.yaml"
    bare.write_text("batch_size: 4\n")                                   # save_steps left at 500
    assert plan(CompareConfig(**fields, train_config=str(bare), max_steps=180)).runs[(0, "anit")].save_steps == 30
    assert plan(CompareConfig(**fields, train_config=str(bare), max_steps=5)).runs[(0, "it")].save_steps == 1
    assert plan(CompareConfig(**fields, train_config=str(bare), max_steps=600)).runs[(0, "it")].save_steps == 500
    given = root / "given.yaml"
    given.write_text("save_steps: 40\nmax_steps: 180\n")                 # one that saves before the end is kept
    assert plan(CompareConfig(**fields, train_config=str(given))).runs[(0, "it")].save_steps == 40
    epochs = root / "epochs.yaml"
    epochs.write_text("epochs: 2\nbatch_size: 4\n")       # by epochs: 24 records (a copy per noise type), 12 steps
    assert plan(CompareConfig(**fields, train_config=str(epochs))).runs[(0, "it")].save_steps == 2
    epochs.write_text("epochs: 100\nbatch_size: 4\n")                   # 600 steps: the 500 given are kept
    assert plan(CompareConfig(**fields, train_config=str(epochs))).runs[(0, "it")].save_steps == 500


def test_model_written_noise_is_written_by_the_rewrite_model_even_where_the_attacks_take_no_rewrites(setup,
                                                                                                      monkeypatch):
    from anit.compare import CompareConfig, plan
    from anit.noise.operators import Noisy
    from anit.noise.rewrite import Rewriter

    root, model, files, args = setup
    used = []

    def rewrite(self, kind, instructions, draws=None):
        used.append((self.model_name, self.k, kind))
        return [Noisy(f"{text} Please.", 1) for text in instructions]

    monkeypatch.setattr(Rewriter, "rewrite", rewrite)
    cfg = CompareConfig(train=str(root / "train.plain.jsonl"), dev=str(files["dev"]),
                        test=str(root / "test.plain.jsonl"), model=str(model), rewrite_model=str(model),
                        rewrites=0, noise=["paraphrase:1"], seeds=[0], out=str(root / "rewritten"))
    checked = plan(cfg)
    assert set(used) == {(str(model), Rewriter.k, "paraphrase")}
    assert all(r["noisy_instruction"] == r["instruction"] + " Please." for r in checked.test)
