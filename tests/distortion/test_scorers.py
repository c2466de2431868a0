import json
import random
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anit.distortion import SCORERS, resolve_scorers
from anit.distortion.hard import word_edit
from anit.distortion.soft import CachedEmbedder, OpenAIEmbeddings
from anit.errors import AnitError
from anit.noise import NOISES
from anit.tasks import TASKS

HARD = [name for name in SCORERS if SCORERS.get(name).family == "hard"]
POOL = [text for task in TASKS for text in TASKS.get(task).instructions]

PARAPHRASES = [
    ("Classify the text into one of the given categories.", "Put the text into one of the categories provided."),
    ("Identify every named entity in the text.", "Find all the named entities that appear in the text."),
    ("Translate the sentence into French.", "Render this sentence in the French language."),
    ("Summarize the article in one sentence.", "Give a one-sentence summary of the article."),
    ("Decide whether the review is positive or negative.",
     "Tell if the review expresses a positive or a negative opinion."),
    ("List the people mentioned in the story.", "Write down every person the story mentions."),
    ("Answer the question using the passage.", "Use the passage to respond to the question."),
    ("Extract the relations between the entities.", "Pull out how the entities are related to each other."),
    ("Correct the grammar mistakes in the paragraph.", "Fix the grammatical errors in the paragraph."),
    ("Write a title for the news story.", "Come up with a headline for the news article."),
    ("Count the number of verbs in the sentence.", "Tell how many verbs the sentence contains."),
    ("Find the main topic of the document.", "Determine what the document is mainly about."),
    ("Rate the sentiment of the tweet from one to five.", "Give the tweet a sentiment score between one and five."),
    ("Detect whether the email is spam.", "Determine if the email is unsolicited junk mail."),
    ("Label each word with its part of speech.", "Tag every word with its grammatical category."),
    ("Identify the aspects the customer complains about.", "Find which features the customer is unhappy with."),
    ("Choose the best answer from the options.", "Pick the most suitable option as the answer."),
    ("Explain the meaning of the idiom.", "Describe what the idiom means."),
    ("Rewrite the sentence in the passive voice.", "Change the sentence so that it uses the passive voice."),
    ("Extract all dates mentioned in the text.", "Pull out every date that the text refers to."),
    ("Determine the language of the text.", "Figure out which language the text is written in."),
]


@pytest.mark.parametrize("name", HARD)
def test_identical_is_zero_and_scores_in_unit_interval(name):
    score = SCORERS.get(name).score
    assert score(POOL, POOL) == [0.0] * len(POOL)
    noisy = [NOISES.get("random_replace").apply(t, 0.5, random.Random(i)).text for i, t in enumerate(POOL)]
    assert all(0.0 < s <= 1.0 for s in score(POOL, noisy))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_hard_scores_stay_in_unit_interval(a, b):
    for name in HARD:
        (value,) = SCORERS.get(name).score([a], [b])
        assert 0.0 <= value <= 1.0


@pytest.mark.parametrize("name", HARD)
@pytest.mark.parametrize("noise", ["random_replace", "truncate_random", "char_typo"])
def test_heavier_noise_gives_higher_mean_hard_score(name, noise):
    score = SCORERS.get(name).score

    def mean(rate):
        noisy = [NOISES.get(noise).apply(t, rate, random.Random(i)).text for i, t in enumerate(POOL)]
        return sum(score(POOL, noisy)) / len(POOL)

    assert mean(0.1) < mean(0.3) < mean(0.6)


def test_word_edit_value():
    assert word_edit("classify the text", "classify a text") == pytest.approx(1 / 3)
    assert word_edit("a b c d", "a b") == pytest.approx(0.5)


def test_resolve_scorers_maps_family_names_to_defaults():
    assert [s.name for s in resolve_scorers(["hard", "soft", "chrf", "hard"])] == ["word_edit", "minilm", "chrf"]
    with pytest.raises(AnitError, match="unknown distortion scorer 'nope'"):
        resolve_scorers(["nope"])


@pytest.mark.slow
def test_soft_scorer_ranks_paraphrase_below_random_half_replacement():
    raws = [raw for raw, _ in PARAPHRASES]
    paraphrased = [para for _, para in PARAPHRASES]
    replaced = [NOISES.get("random_replace").apply(t, 0.5, random.Random(i)).text for i, t in enumerate(raws)]
    minilm = SCORERS.get("minilm").score
    para_scores, random_scores = minilm(raws, paraphrased), minilm(raws, replaced)
    assert sum(para_scores) / len(raws) < sum(random_scores) / len(raws)
    assert sum(p < r for p, r in zip(para_scores, random_scores)) >= 0.8 * len(raws)
    assert minilm(raws[:3], raws[:3]) == [0.0, 0.0, 0.0]


def test_cached_embedder_embeds_each_unique_text_once():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return [[len(t), 1.0] for t in texts]

    emb = CachedEmbedder(embed, batch_size=2)
    scores = emb.distortion(["aa", "aa", "b"], ["aa", "ccc", "b"])
    assert scores[0] == 0.0 and scores[2] == 0.0 and 0.0 < scores[1] <= 1.0
    assert sorted(t for call in calls for t in call) == ["aa", "b", "ccc"] and all(len(c) <= 2 for c in calls)
    emb.distortion(["aa"], ["ccc"])
    assert emb.computed == 3


class _Embeddings(BaseHTTPRequestHandler):
    failures = 1
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.headers["Authorization"], body))
        if type(self).failures > 0:
            type(self).failures -= 1
            self.send_response(503)
            self.end_headers()
            return
        data = [{"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(body["input"])]
        payload = json.dumps({"data": list(reversed(data))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_openai_compatible_endpoint_retries_then_embeds(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("ANIT_EMBEDDINGS_API_KEY", "sk-test")
        monkeypatch.setenv("ANIT_EMBEDDINGS_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        monkeypatch.setenv("ANIT_EMBEDDINGS_MODEL", "text-embedding-3-large")
        client = OpenAIEmbeddings.from_env()
        client.backoff = 0.01
        vectors = client(["a", "bbb"])
        assert vectors.tolist() == [[1.0, 1.0], [3.0, 1.0]]
        auth, body = _Embeddings.seen[-1]
        assert auth == "Bearer sk-test" and body == {"model": "text-embedding-3-large", "input": ["a", "bbb"]}
    finally:
        server.shutdown()


def test_openai_scorer_without_key_says_what_to_set(monkeypatch):
    monkeypatch.delenv("ANIT_EMBEDDINGS_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AnitError, match="set ANIT_EMBEDDINGS_API_KEY"):
        OpenAIEmbeddings.from_env()


def test_user_scorers_register_without_a_docstring(monkeypatch):
    from anit.distortion import register_batch_scorer, register_scorer

    monkeypatch.setattr(SCORERS, "_items", dict(SCORERS._items))

    @register_scorer("test_length_ratio", family="hard")
    def length_ratio(raw, noisy):
        return 1 - min(len(raw), len(noisy)) / max(len(raw), len(noisy), 1)

    @register_batch_scorer("test_same", family="hard")
    def same(raws, noisys):
        return [float(r != n) for r, n in zip(raws, noisys)]

    assert SCORERS.get("test_length_ratio").score(["abcd"], ["ab"]) == [0.5]
    assert SCORERS.get("test_length_ratio").description == "length_ratio"
    assert SCORERS.get("test_same").score(["a", "b"], ["a", "c"]) == [0.0, 1.0]
    assert resolve_scorers(["test_same"])[0].name == "test_same"
