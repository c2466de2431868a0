"""What ``anit eval`` and ``anit attack`` are configured by: typed dataclasses, YAML in, ``--set`` overrides; and
the model such a configuration names, opened (:func:`open_model`, also for ``anit compare``).

Both score a model (a base, or a base with a trained adapter) on records, so they share :class:`ModelOptions`;
where the adapter was trained with anit, its own model, prompt style, dtype and quantization are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from anit.config import load_config, option
from anit.errors import AnitError
from anit.plugins import Pluggable

DTYPES = ("auto", "float32", "bfloat16", "float16")
FAMILIES = ("noise", "unseen", "file", "paraphrase", "opposite")
"""The kinds of candidate instructions ``anit attack`` draws from."""


def rule_noise(name: str) -> None:
    """Stop unless ``name`` is a registered rule-based noise type (a model-written one is a family of its own)."""
    from anit.noise.operators import NOISES

    if NOISES.get(name).batched:
        raise AnitError(f"{name!r} is written by a model, not a rule; search it with --families {name}")


@dataclass
class ModelOptions(Pluggable):
    model: Optional[str] = option(None, "Base model: preset, Hugging Face id or path (default: the adapter's "
                                        "training model, else smollm2-135m).", path=True)
    adapter: Optional[str] = option(None, "Trained adapter folder (omit for the base model, zero-shot).", path=True)
    scoring: str = option("generate", "generate (parse the generated answer, the paper's protocol) or choice "
                                      "(rank a classification record's options by log-likelihood).",
                          choices=("generate", "choice"))
    batch_size: int = option(8, "Records per forward pass.", min=1)
    max_new_tokens: Optional[int] = option(None, "Generation budget (default: fitted to each task).", min=1)
    prompt_style: Optional[str] = option(None, "auto, chat or plain (default: the adapter's, else auto).",
                                         choices=("auto", "chat", "plain"))
    dtype: Optional[str] = option(None, "Weights' dtype (default: the adapter's, else auto).", choices=DTYPES)
    quantization: Optional[str] = option(None, "4bit, 8bit or none (default: the adapter's; QLoRA adapters are "
                                               "scored on the same quantised base).", choices=("4bit", "8bit", "none"))
    seed: int = option(0, "Seed of sampling and of the bootstrap intervals (and, for attacks, of the search).")
    backend: str = option("hf", "hf: the model in this process; openai: a served model behind an OpenAI-compatible "
                                "API (vLLM, SGLang, llama.cpp, a hosted one; key from ANIT_API_KEY).",
                          choices=("hf", "openai"))
    base_url: Optional[str] = option(None, "The server's API root for --backend openai, e.g. http://127.0.0.1:8000/v1.")
    served_model: Optional[str] = option(None, "The model name the server serves (a LoRA module's name for an "
                                               "adapter served with --lora-modules).")
    chat: bool = option(False, "--backend openai: send the user turn to /v1/chat/completions (the server's chat "
                               "template) instead of anit's own prompt to /v1/completions.")
    concurrency: int = option(8, "--backend openai: requests in flight at once.", min=1)
    timeout: float = option(120.0, "--backend openai: seconds per request.", min=1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.backend == "openai" and not (self.base_url and self.served_model):
            raise AnitError("--backend openai needs --base-url and --served-model")
        if self.backend == "openai" and self.adapter:
            raise AnitError("--backend openai scores what the server serves: serve the adapter (vLLM "
                            "--lora-modules NAME=DIR) and name it with --served-model instead of --adapter")

    def trained(self) -> Any:
        """The TrainConfig the adapter was trained with, or None; a missing adapter folder stops here."""
        return trained_with(self.adapter) if self.adapter else None


def trained_with(adapter: str) -> Any:
    """The TrainConfig an adapter folder was trained with (its anit_config.yaml), or None for an adapter another
    tool wrote; a folder that holds no adapter stops here, before any model loads."""
    from anit.training.config import TrainConfig

    folder = Path(adapter)
    if not (folder / "adapter_config.json").exists():
        raise AnitError(f"--adapter {adapter}: not an adapter folder (no adapter_config.json); give the output_dir "
                        "of `anit train`")
    saved = folder / "anit_config.yaml"
    return load_config(TrainConfig, saved) if saved.exists() else None


@dataclass
class EvalConfig(ModelOptions):
    data: str = option("test.jsonl", "Test records: prepared, noisy, or your own JSONL (see the README's Data).",
                       path=True)
    instructions: list[str] = option(["raw"], "raw, noisy, unseen, unseen-pool or a YAML/JSON file of instructions "
                                              "per task, e.g. the worst.yaml of `anit attack`; for records of one "
                                              "task, a list or a .txt file, one per line (repeatable).", path=True)
    limit: Optional[int] = option(None, "Evaluate the first N distinct records (default: all).", min=1)
    out: str = option("results", "Output folder.", path=True)
    sample: bool = option(False, "Sample instead of greedy decoding.")
    temperature: float = option(1.0, "Sampling temperature.", min=0.0)


@dataclass
class AttackConfig(ModelOptions):
    data: str = option("dev.jsonl", "Dev records to search on (never the test records).", path=True)
    budget: int = option(100, "Candidate instructions scored per task (each one pass over its dev records).", min=1)
    top_k: int = option(3, "Worst instructions per task written to worst.yaml.", min=1)
    rates: list[float] = option([0.1, 0.3, 0.5], "Rates every rule-based noise type is tried at.", min=0.0, max=1.0)
    noise_seeds: int = option(2, "Seeds per noise type and rate.", min=1)
    beam: int = option(4, "Worst candidates a composition round grows from.", min=1)
    rewrites: int = option(8, "Model-written paraphrases and opposites per task instruction (0: none).", min=0)
    rewrite_model: str = option("smollm2-135m", "Model that writes the paraphrase/opposite candidates.", path=True)
    instructions: Optional[str] = option(None, "A YAML/JSON file of your own candidate instructions per task (for "
                                                "records of one task: a list, or a .txt file, one per line).",
                                         path=True)
    families: list[str] = option(list(FAMILIES), "Kinds of candidates searched: noise (rule-based types and their "
                                                 "compositions), unseen (the held-out pool), file (--instructions), "
                                                 "paraphrase and opposite (model rewrites).", choices=FAMILIES)
    noises: Optional[list[str]] = option(None, "Rule-based noise types tried, and composed (default: every "
                                               "registered one; see `anit noise list`).", check=rule_noise)
    max_distortion: Optional[float] = option(None, "Score only candidates whose hard distortion from the raw "
                                                   "instruction is at most this (a PromptBench-style bound that keeps "
                                                   "the worst case near the raw wording); default: no bound.",
                                             min=0.0, max=1.0)
    limit: Optional[int] = option(None, "Search on the first N distinct dev records (default: all).", min=1)
    reuse: Optional[str] = option(None, "An earlier attack's output folder on the same model, adapter, data and "
                                        "scoring (an unbounded one before a --max-distortion one): the candidates "
                                        "it scored are taken as they are, not scored again.", path=True)
    out: str = option("attack", "Output folder: worst.yaml, attack.json and the resumable candidate cache.", path=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.families:
            raise AnitError(f"families: empty; choose one or more of {', '.join(FAMILIES)}")
        if self.families == ["file"] and not self.instructions:
            raise AnitError("families: only 'file' is searched but no --instructions file gives its candidates")
        if self.reuse and not (Path(self.reuse) / "fingerprint.json").exists():
            raise AnitError(f"reuse: {self.reuse} holds no attack (no fingerprint.json); give the --out folder of an "
                            "earlier `anit attack`")


def open_model(cfg: ModelOptions, say: Callable[[str], None] = print) -> tuple[Any, Any, str, str]:
    """The model to score (base, with the adapter where given; or the served one), its tokenizer, prompt style and
    model name. The adapter folder is checked before any model loads; ``say`` takes the note on the precision it
    falls back to."""
    import torch

    from anit.evaluation.run import eval_precision, load_for_eval
    from anit.models import DEFAULT_MODEL, load_tokenizer

    if cfg.backend == "openai":
        from anit.evaluation.served import ServedModel

        tokenizer = load_tokenizer(cfg.model) if cfg.model else None
        served = ServedModel(cfg.base_url, cfg.served_model, cfg.chat, tokenizer, concurrency=cfg.concurrency,
                             timeout=cfg.timeout)
        served.check()
        return served, tokenizer, cfg.prompt_style or "auto", cfg.served_model

    trained = cfg.trained()
    name = cfg.model or (trained.model if trained else DEFAULT_MODEL)
    style = cfg.prompt_style or (trained.prompt_style if trained else "auto")
    dtype, quantization, note = eval_precision(trained, cfg.dtype, cfg.quantization, torch.cuda.is_available())
    if note:
        say(f"note: {note}")
    model, tokenizer = load_for_eval(name, cfg.adapter, dtype=dtype, quantization=quantization)
    return model, tokenizer, style, name
