import pytest

from anit.noise import rewrite
from anit.noise.rewrite import Rewriter, clean, echo_rejection, opposite_rejection, rejection


def test_clean_takes_first_line_without_prefix_or_quotes():
    cleaned = clean('\n Rewritten instruction: "Sort the text into a category."\nMore text')
    assert cleaned == "Sort the text into a category."


def test_rejection_reasons():
    assert rejection("Classify the text.", "") == "empty output"
    assert rejection("Classify the text.", "classify  the text") == "identical to the input"
    assert rejection("Classify the text.", "word " * 40) == "runaway-long output"
    assert rejection("Classify the text.", "Sort the text.") is None


def test_rewriter_batches_retries_rejects_and_caches(tmp_path, monkeypatch):
    calls = []

    def fake_generate(model, tokenizer, prompts, max_new_tokens, batch_size, do_sample, temperature, seed,
                      stop_at_newline, progress):
        calls.append((len(prompts), do_sample))
        outs = []
        for prompt in prompts:
            if "Label the words" in prompt:
                outs.append("Label the words.")
            elif do_sample:
                outs.append("Put the text in a class.")
            else:
                outs.append("")
        return outs

    class FakeTokenizer:
        chat_template = None

    monkeypatch.setattr(rewrite, "generate", fake_generate)
    cache = tmp_path / "cache.json"
    rw = Rewriter("fake", cache_path=cache, retries=1, k=1, _model=object(), _tokenizer=FakeTokenizer())
    out = rw.rewrite("paraphrase", ["Classify the text.", "Label the words.", "Classify the text."])
    assert [o.text for o in out] == ["Put the text in a class.", "Label the words.", "Put the text in a class."]
    assert out[1].note and "rejected" in out[1].note
    assert calls == [(2, False), (4, True)]  # a sampled round asks twice what is missing
    assert rw.failures == [("paraphrase", "Label the words.", "identical to the input")]
    again = Rewriter("fake", cache_path=cache, k=1, _model=object(), _tokenizer=FakeTokenizer())
    monkeypatch.setattr(rewrite, "generate", lambda *a, **k: pytest.fail("cached rewrite regenerated"))
    assert again.rewrite("paraphrase", ["Classify the text."])[0].text == "Put the text in a class."


OPPOSITES = {  # a fixed set: what the 135M rewriter wrote when asked for the opposite, and whether it is one
    "Do not classify the text into any of the given categories.": True,
    "Pick the label that does not fit the passage.": True,
    "Ignore the entities and describe the text instead.": True,
    "Misclassify the text on purpose.": True,
    "Choose the least fitting category for the text.": True,
    "Classify the text into one of the given categories.": False,
    "Sort the passage into the correct label.": False,
    "Identify each named entity and give its type.": False,
    "Nothing to see here": True,
}


@pytest.mark.parametrize("text,is_opposite", OPPOSITES.items())
def test_opposite_needs_a_negation_or_reversal(text, is_opposite):
    assert (opposite_rejection(text) is None) == is_opposite


ECHOES = {  # a fixed set: what the 135M rewriter wrote for SST-2's instruction, and whether it talks of the rewriting
    ("opposite", "To rewrite the previous task, I'll rephrase it to ask for the opposite of what it asks now."): True,
    ("paraphrase", "Here is the task instruction using different words but keeping exactly the same meaning."): True,
    ("paraphrase", "Reply with the rewritten instruction only: classify the text."): True,
    ("opposite", "You don't have any choices. The task asks you to classify the text into the opposite category."):
        False,
    ("opposite", "I will not allow you to classify text into more than one category."): False,
    ("paraphrase", "Using different words, sort the text into one of the categories."): False,
    ("paraphrase", "The task is to classify the text into one of the specified categories:"): False,
}


@pytest.mark.parametrize("kind,text", ECHOES)
def test_an_output_that_repeats_the_rewriting_request_is_rejected(kind, text):
    raw = "Classify the text into one of the given categories."
    assert (echo_rejection(kind, raw, text) is not None) == ECHOES[(kind, text)]


def test_an_instruction_that_shares_the_requests_words_may_keep_them():
    raw = "Reply with the rewritten instruction only when the text is a recipe."   # the request's words are its own
    assert echo_rejection("paraphrase", raw, "Reply with the rewritten instruction only for recipes.") is None
    assert echo_rejection("paraphrase", "Sort the text.", "Reply with the rewritten instruction only for recipes.")


def test_k_distinct_variants_dedupe_reject_and_draw(tmp_path, monkeypatch):
    samples = iter(["Sort the text.", "Sort the text.", "Label the passage.", "Classify the text.",
                    "Put it in a class.", "Tag the text."] * 3)

    def fake_generate(model, tokenizer, prompts, max_new_tokens, batch_size, do_sample, temperature, seed,
                      stop_at_newline, progress):
        return ["Group the text." if not do_sample else next(samples) for _ in prompts]

    monkeypatch.setattr(rewrite, "generate", fake_generate)
    rw = Rewriter("fake", cache_path=tmp_path / "c.json", k=4, _model=object(), _tokenizer=type("T", (), {})())
    table = rw.variants("paraphrase", ["Classify the text."])
    assert table == {"Classify the text.": ["Group the text.", "Sort the text.", "Label the passage.",
                                            "Put it in a class."]}
    assert rw.rejections == {"duplicate of an earlier rewrite": 1, "identical to the input": 1}
    drawn = rw.rewrite("paraphrase", ["Classify the text."] * 3, draws=[0, 5, 7])
    assert [n.text for n in drawn] == ["Group the text.", "Sort the text.", "Put it in a class."]
    (tmp_path / "bad.json").write_text("{not json")
    broken = Rewriter("fake", cache_path=tmp_path / "bad.json", k=1, _model=object(), _tokenizer=type("T", (), {})())
    assert broken.rewrite("paraphrase", ["Classify the text."])[0].text == "Group the text."


def test_opposite_rewrites_without_a_reversal_are_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(rewrite, "generate",
                        lambda m, t, prompts, *a, **k: ["Sort the text into a class."] * len(prompts))
    rw = Rewriter("fake", k=2, retries=1, _model=object(), _tokenizer=type("T", (), {})())
    (out,) = rw.rewrite("opposite", ["Classify the text."])
    assert out.text == "Classify the text." and "rejected" in out.note
    assert rw.rejections["no negation or reversal (kept the meaning)"] == 1 + 4


@pytest.mark.slow
def test_embedded_model_paraphrases_an_instruction(tmp_path):
    rw = Rewriter("smollm2-135m", cache_path=tmp_path / "c.json", retries=2)
    (out,) = rw.rewrite("paraphrase", ["Classify the text into one of the given categories."])
    assert out.text and out.text != "Classify the text into one of the given categories." or out.note


def test_an_instruction_whose_retries_ran_out_is_not_generated_again(tmp_path, monkeypatch):
    monkeypatch.setattr(rewrite, "generate",
                        lambda m, t, prompts, *a, **k: ["Sort the text into a class."] * len(prompts))
    cache = tmp_path / "c.json"
    Rewriter("fake", cache_path=cache, k=3, retries=0, _model=object(), _tokenizer=type("T", (), {})()).variants(
        "paraphrase", ["Classify the text."])
    monkeypatch.setattr(rewrite, "generate", lambda *a, **k: pytest.fail("an exhausted instruction was retried"))
    again = Rewriter("fake", cache_path=cache, k=3, _model=object(), _tokenizer=type("T", (), {})())
    assert again.variants("paraphrase", ["Classify the text."]) == {
        "Classify the text.": ["Sort the text into a class."]}
