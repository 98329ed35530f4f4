"""scripts/tune_label_bias.py: the coordinate search, the objective, and what --write changes."""
import json
import shutil

from tests.helpers import SEED, load_script

tb = load_script("tune_label_bias")


def test_search_keeps_a_bias_only_when_the_objective_rises():
    # a made-up response: role is best at I-ROLE 1.0, sector prefers no bias at all
    def evaluate(bias):
        r = bias.get("role", {}).get("I-ROLE", 0.0)
        s = bias.get("sector", {}).get("O", 0.0)
        return {"role": 80 - (r - 1.0) ** 2, "sector": 60 - s * s}

    best, trials = tb.search(evaluate, {"role": ("I-ROLE", [0.0, 0.5, 1.0, 1.5]), "sector": ("O", [0.0, -1.0])})
    assert best == {"role": {"I-ROLE": 1.0}}
    assert len(trials) == 1 + 3 + 1  # start, three new role values, one new sector value (0.0 = start, cached)
    assert all(t["objective"] == round(tb.objective(t["figures"]), 3) for t in trials)


def test_tuning_a_checkpoint_writes_only_its_label_bias(trained_tiny, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(trained_tiny, model)
    before = json.loads((model / "config.json").read_text(encoding="utf-8"))
    assert tb.main(["--model", str(model), "--dev", str(SEED), "--out", str(tmp_path / "o"), "--layers", "role", "--write"]) == 0
    report = json.loads((tmp_path / "o" / "tune.json").read_text(encoding="utf-8"))
    assert len(report["trials"]) == 4 and set(report["trials"][0]["figures"]) >= {"role", "said_by", "speaker"}
    after = json.loads((model / "config.json").read_text(encoding="utf-8"))
    assert after["decode"]["label_bias"] == report["chosen"]
    after["decode"].pop("label_bias")
    before["decode"].pop("label_bias", None)
    assert after == before
