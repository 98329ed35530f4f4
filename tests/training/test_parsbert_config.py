"""configs/parsbert.yaml: the hub recipe's loading path, with a tiny BERT saved in the hub's layout.

Users with hub access get HooshvareLab/bert-fa-zwnj-base by name; the same code
path takes a local folder, which is what this test gives it (no download).
"""

from goftar.training.config import load_config
from goftar.training.train import load_model

from tests.helpers import ROOT



def test_parsbert_recipe_loads_a_local_bert_folder(tiny_encoder, monkeypatch):
    cfg = load_config(ROOT / "configs" / "parsbert.yaml")
    assert cfg.model.encoder == "HooshvareLab/bert-fa-zwnj-base"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in tiny_encoder.iterdir()}
    cfg.model.encoder = str(tiny_encoder)  # a local copy in the same layout as the hub checkpoint
    model, tok = load_model(cfg)
    assert model.config.encoder["model_type"] == "bert"
    assert model.config.window_length == cfg.model.window_length == 512
    # the encoder's weights are the saved ones, not a fresh initialisation
    from transformers import AutoModel

    saved = AutoModel.from_pretrained(tiny_encoder).embeddings.word_embeddings.weight
    assert (model.encoder.embeddings.word_embeddings.weight == saved).all()
    assert tok.unk_token_id not in tok("قالیباف گفت", add_special_tokens=False)["input_ids"]


def test_default_and_continue_configs_parse():
    for name in ("default.yaml", "continue.yaml", "parsbert.yaml"):
        cfg = load_config(ROOT / "configs" / name)
        assert cfg.data.train and cfg.data.dev
