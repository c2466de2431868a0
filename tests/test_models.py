from types import SimpleNamespace

import pytest
import transformers

from anit.errors import AnitError
from anit.models import load_model


@pytest.fixture
def gguf_file(tmp_path):
    path = tmp_path / "model.Q4_1.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_a_gguf_model_is_asked_for_plain_weights_whatever_is_installed(gguf_file, monkeypatch):
    asked = {}

    def from_pretrained(path, **kwargs):
        asked.update(kwargs, path=path)
        return SimpleNamespace(config=SimpleNamespace(quantization_config={"quant_method": "gguf"}),
                               hf_quantizer=object(), is_quantized=True)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", from_pretrained)
    model = load_model(str(gguf_file))
    assert asked["path"] == str(gguf_file.parent) and asked["gguf_file"] == gguf_file.name
    assert asked["quantization_config"].dequantize is True
    assert model.hf_quantizer is None and model.is_quantized is False
    assert not hasattr(model.config, "quantization_config")


def test_qlora_on_a_gguf_model_names_the_fix(gguf_file):
    with pytest.raises(AnitError, match=r"model .*model\.Q4_1\.gguf is a GGUF file.*name a safetensors model"):
        load_model(str(gguf_file), quantization="4bit")


def test_a_preset_is_converted_once_into_a_plain_folder_and_loaded_from_there(tmp_path, monkeypatch):
    from pathlib import Path

    from anit import models

    packed = models.Source(str(tmp_path), "model.Q4_1.gguf")
    (tmp_path / "model.Q4_1.gguf").write_bytes(b"GGUF" * 10)
    converted = []

    class Saved:
        def save_pretrained(self, folder):
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{type(self).__name__}.json").write_text("{}")

    class Config(Saved):                 # the model's files; config.json marks a whole folder
        def save_pretrained(self, folder):
            super().save_pretrained(folder)
            (Path(folder) / "config.json").write_text("{}")

    monkeypatch.setattr(models, "_load_tokenizer", lambda source: converted.append(source) or Saved())
    monkeypatch.setattr(models, "_load_model", lambda name, source, kwargs: Config())
    monkeypatch.setenv("ANIT_CACHE", str(tmp_path / "cache"))
    first = models.converted("tiny", packed)
    assert first.gguf_file is None and Path(first.path).parent == tmp_path / "cache" / "models"
    assert sorted(p.name for p in Path(first.path).iterdir()) == ["Config.json", "Saved.json", "config.json"]
    assert models.converted("tiny", packed) == first and converted == [packed]          # once
    (tmp_path / "model.Q4_1.gguf").write_bytes(b"GGUF" * 11)                             # another file: again
    assert models.converted("tiny", packed) != first and len(converted) == 2
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir() if "partial" in p.name] == []
    monkeypatch.setenv("ANIT_CACHE", str(tmp_path / "model.Q4_1.gguf"))                # not writable: the GGUF file
    assert models.converted("tiny", packed) == packed


@pytest.mark.slow
def test_the_converted_preset_is_the_gguf_model_with_the_same_tokenizer():
    import torch

    from anit.models import PRESETS, _load_model, _load_tokenizer, load_tokenizer, resolve

    folder, packed = resolve("smollm2-135m"), PRESETS["smollm2-135m"]()
    assert folder.gguf_file is None and packed.gguf_file
    model = load_model("smollm2-135m")
    reference = _load_model("smollm2-135m", packed, {"dtype": torch.float32})
    assert list(model.state_dict()) == list(reference.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.state_dict().values()))
    tokenizer, gguf = load_tokenizer("smollm2-135m"), _load_tokenizer(packed)
    texts = ["Classify the sentiment: a gripping, funny film!", "EU rejects German call .", "ünïcødé — 日本語 😀"]
    assert [tokenizer(t).input_ids for t in texts] == [gguf(t).input_ids for t in texts]
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": texts[0]}]
    assert tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True) == \
        gguf.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
    assert (tokenizer.eos_token, tokenizer.bos_token, len(tokenizer)) == (gguf.eos_token, gguf.bos_token, len(gguf))
