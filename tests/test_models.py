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
