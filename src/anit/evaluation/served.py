"""A served model as the model ``anit eval`` and ``anit attack`` score: any OpenAI-compatible endpoint (vLLM, SGLang,
llama.cpp's server, a hosted API), as lm-evaluation-harness's ``local-completions`` takes one.

    served = ServedModel("http://127.0.0.1:8000/v1", "smollm2", tokenizer=load_tokenizer("runs/merged"))
    served.check()                                   # the server answers and serves that name, before any scoring
    predict(served, tokenizer, pairs, chat, options) # as for an in-process model: same prompts, same parsing

Generation goes through ``/v1/completions`` with anit's own prompt (as token ids when a local tokenizer is given,
so the model sees exactly the tokens the in-process path gives it), or ``/v1/chat/completions`` with the user turn
as a message (``chat``: the server applies its own template); greedy, the task's budget, stopping at a new line.
Choice scoring reads prompt log-probabilities (``echo`` with ``logprobs``, as lm-eval does) of each option's tokens
after the prompt's. Requests run ``concurrency`` at a time (the server batches them), with retries and backoff on
429, 5xx and connection errors; a bad URL, an unknown model name, a refused key or a server that cannot give
log-probabilities is one line naming the option to change.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

from anit.errors import AnitError

RETRIED = (429, 500, 502, 503, 504)


@dataclass
class ServedModel:
    base_url: str
    model: str
    chat: bool = False
    tokenizer: Any = None
    api_key: str | None = None
    concurrency: int = 8
    timeout: float = 120.0
    retries: int = 4
    backoff: float = 1.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.api_key = self.api_key or os.environ.get("ANIT_API_KEY")

    def _request(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = json.dumps(payload).encode() if payload is not None else None
        url = f"{self.base_url}{path}"
        last = ""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")[:300]
                if err.code in (401, 403):
                    raise AnitError(f"--base-url {self.base_url}: the server refused the key (HTTP {err.code}); set "
                                    "ANIT_API_KEY") from None
                if err.code not in RETRIED:
                    raise ServerError(err.code, detail) from None
                last = f"HTTP {err.code}: {detail}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                last = str(getattr(err, "reason", err))
            if attempt < self.retries:
                time.sleep(self.backoff * 2 ** attempt)
        raise AnitError(f"--base-url {self.base_url}: no answer from {path} after {self.retries + 1} tries ({last}); "
                        "is the server running?")

    def check(self) -> None:
        """The server answers and serves ``model``: checked before any record is scored."""
        served = [m.get("id") for m in self._request("/models").get("data", [])]
        if self.model not in served:
            raise AnitError(f"--served-model {self.model!r}: the server at {self.base_url} serves "
                            f"{', '.join(map(str, served)) or 'no model'}")

    def _map(self, fn: Any, items: Sequence[Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(pool.map(fn, items))

    def generate(self, prompts: Sequence[str], messages: Sequence[str], max_tokens: int) -> list[str]:
        """Greedy continuations: of each prompt (``/completions``), or of each user turn (``/chat/completions``)."""
        def one(index: int) -> str:
            if self.chat:
                out = self._request("/chat/completions", {
                    "model": self.model, "messages": [{"role": "user", "content": messages[index]}],
                    "max_tokens": max_tokens, "temperature": 0, "stop": ["\n"]})
                text = out["choices"][0]["message"]["content"] or ""
            else:
                prompt: Any = prompts[index]
                if self.tokenizer is not None:
                    prompt = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
                out = self._request("/completions", {"model": self.model, "prompt": prompt, "max_tokens": max_tokens,
                                                     "temperature": 0, "stop": ["\n"]})
                text = out["choices"][0]["text"]
            return text.split("\n")[0]

        return self._map(one, range(len(prompts)))

    def option_logprobs(self, prompt_ids: Sequence[Sequence[int]], option_ids: Sequence[Sequence[int]]
                        ) -> list[float]:
        """Each option's total log-probability after its prompt, read from the prompt log-probabilities the server
        echoes for ``prompt + option`` (token ids, so the split is exactly the in-process one)."""
        if self.chat:
            raise AnitError("--scoring choice reads prompt log-probabilities from /v1/completions, which --chat does "
                            "not use; drop --chat (give --model for the tokenizer) or use --scoring generate")

        def one(index: int) -> float:
            ids = list(prompt_ids[index]) + list(option_ids[index])
            try:
                out = self._request("/completions", {"model": self.model, "prompt": ids, "max_tokens": 1,
                                                     "temperature": 0, "logprobs": 1, "echo": True})
                values = out["choices"][0]["logprobs"]["token_logprobs"]
            except (ServerError, KeyError, TypeError) as err:
                raise AnitError(f"--base-url {self.base_url}: the server gives no prompt log-probabilities (echo with "
                                f"logprobs on /v1/completions: {err}); use --scoring generate") from None
            start = len(prompt_ids[index])
            return float(sum(values[start:start + len(option_ids[index])]))

        return self._map(one, range(len(prompt_ids)))


class ServerError(AnitError):
    """A request the server rejected (not retried): its status and what it said."""

    def __init__(self, code: int, detail: str) -> None:
        self.code = code
        super().__init__(f"HTTP {code}: {detail}")
