import pytest

from anit.noise import rewrite
from anit.noise.rewrite import Rewriter, clean, rejection


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
    rw = Rewriter("fake", cache_path=cache, retries=1, _model=object(), _tokenizer=FakeTokenizer())
    out = rw.rewrite("paraphrase", ["Classify the text.", "Label the words.", "Classify the text."])
    assert [o.text for o in out] == ["Put the text in a class.", "Label the words.", "Put the text in a class."]
    assert out[1].note and "rejected" in out[1].note
    assert calls == [(2, False), (2, True)]
    assert rw.failures == [("paraphrase", "Label the words.", "identical to the input")]
    again = Rewriter("fake", cache_path=cache, _model=object(), _tokenizer=FakeTokenizer())
    monkeypatch.setattr(rewrite, "generate", lambda *a, **k: pytest.fail("cached rewrite regenerated"))
    assert again.rewrite("paraphrase", ["Classify the text."])[0].text == "Put the text in a class."


@pytest.mark.slow
def test_embedded_model_paraphrases_an_instruction(tmp_path):
    rw = Rewriter("smollm2-135m", cache_path=tmp_path / "c.json", retries=2)
    (out,) = rw.rewrite("paraphrase", ["Classify the text into one of the given categories."])
    assert out.text and out.text != "Classify the text into one of the given categories." or out.note
