"""The OpenAI-compatible backend's protocol and errors, against a small local HTTP server (the equality of its
answers with the in-process path is tested against a real vLLM server in test_served_vllm.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from anit.errors import AnitError
from anit.evaluation.run import EvalOptions, predict
from anit.evaluation.served import ServedModel

RECORD = {"id": "1", "dataset": "sst2", "task": "tc", "instruction": "Classify.", "question": "q", "format": "f",
          "options": ["negative", "positive"], "input": "a good film", "gold": "positive"}


def token(word):
    return sum(map(ord, word)) % 997


class Tokenizer:
    """Whitespace 'tokens' numbered by their characters, enough to check which ids go where."""

    chat_template = None

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [token(word) for word in text.split()]}


@pytest.fixture
def server():
    seen, state = [], {"fail": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, payload):
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.headers.get("Authorization") == "Bearer wrong":
                return self.reply(401, {"error": "bad key"})
            self.reply(200, {"data": [{"id": "served"}]})

        def do_POST(self):
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, payload))
            if state["fail"]:
                state["fail"] -= 1
                return self.reply(503, {"error": "busy"})
            if self.path.endswith("/chat/completions"):
                return self.reply(200, {"choices": [{"message": {"content": "positive\nmore"}}]})
            if payload.get("echo"):
                if state.get("no_logprobs"):
                    return self.reply(400, {"error": "echo is not supported"})
                ids = payload["prompt"]
                # log-probability -1 per token, except the option "positive" scores -0.1
                last = len(ids) - 1
                values = [None] + [-0.1 if ids[-1] == token("positive") and k == last else -1.0
                                   for k in range(1, len(ids))]
                return self.reply(200, {"choices": [{"logprobs": {"token_logprobs": values + [-1.0]}}]})
            return self.reply(200, {"choices": [{"text": " negative\nAnswer: x"}]})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1", seen, state
    httpd.shutdown()


def test_generation_sends_token_ids_greedy_and_stops_at_a_new_line(server):
    url, seen, _ = server
    served = ServedModel(url, "served", tokenizer=Tokenizer())
    served.check()
    (answer,) = predict(served, served.tokenizer, [(RECORD, "Classify it.")], False, EvalOptions())
    path, payload = seen[-1]
    assert answer == " negative" and path == "/v1/completions"
    assert payload["temperature"] == 0 and payload["stop"] == ["\n"] and payload["max_tokens"] == 8
    assert payload["prompt"] == Tokenizer()("Instruction: Classify it.\nQuestion: q\nFormat: f\nOptions: negative, "
                                            "positive\nText: a good film\nAnswer:")["input_ids"]


def test_chat_sends_the_user_turn(server):
    url, seen, _ = server
    (answer,) = predict(ServedModel(url, "served", chat=True), None, [(RECORD, "Sort it.")], False, EvalOptions())
    assert answer == "positive"
    assert seen[-1][1]["messages"][0]["content"].startswith("Instruction: Sort it.\nQuestion: q")


def test_choice_sums_each_options_prompt_logprobs(server):
    url, seen, _ = server
    served = ServedModel(url, "served", tokenizer=Tokenizer())
    (answer,) = predict(served, served.tokenizer, [(RECORD, "Classify.")], False, EvalOptions(scoring="choice"))
    assert answer == "positive"
    echoes = [p for _, p in seen if p.get("echo")]
    assert len(echoes) == 2 and all(p["logprobs"] == 1 for p in echoes)


def test_retries_busy_answers_then_succeeds(server):
    url, seen, state = server
    state["fail"] = 2
    served = ServedModel(url, "served", tokenizer=Tokenizer(), backoff=0.01)
    assert predict(served, served.tokenizer, [(RECORD, "Classify.")], False, EvalOptions()) == [" negative"]
    assert len(seen) == 3


@pytest.mark.parametrize("make,message", [
    (lambda url: ServedModel(url, "other"), "--served-model 'other': the server at .* serves served"),
    (lambda url: ServedModel(url, "served", api_key="wrong"), "refused the key"),
    (lambda url: ServedModel("http://127.0.0.1:9/v1", "served", retries=1, backoff=0.01), "is the server running"),
])
def test_bad_url_model_or_key_is_one_line(server, make, message):
    url, _, _ = server
    with pytest.raises(AnitError, match=message):
        make(url).check()


def test_a_server_without_prompt_logprobs_names_the_option_to_use(server):
    url, _, state = server
    state["no_logprobs"] = True
    served = ServedModel(url, "served", tokenizer=Tokenizer())
    with pytest.raises(AnitError, match="use --scoring generate"):
        predict(served, served.tokenizer, [(RECORD, "Classify.")], False, EvalOptions(scoring="choice"))
    with pytest.raises(AnitError, match="needs --model"):
        predict(ServedModel(url, "served"), None, [(RECORD, "Classify.")], False, EvalOptions(scoring="choice"))
