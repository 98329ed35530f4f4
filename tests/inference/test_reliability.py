"""Issue 13 and issue 11 (points 1 and 7): nothing a user gave is destroyed, one record one result,
broken models and configs refused with one line, batch runs that survive kills, linear cost.

Most tests use an untrained goftar model on the tiny encoder (built in seconds): what is checked is
that every record gets its result, not what the model finds."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from goftar.inference.document import Document
from goftar.inference.errors import ModelError
from goftar.cli import main

from tests.helpers import ROOT

TEXTS = ["قالیباف گفت: روابط تجاری را توسعه می‌دهیم.", "وزیر نفت امروز گفت صادرات گاز افزایش یافت.",
         "Latin only text 123", "رئیس بانک مرکزی گفت: بیمه و بورس مهم هستند."]


@pytest.fixture(scope="module")
def model_dir(untrained, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("untrained") / "model"
    model, tok = untrained(window_length=32, window_stride=24)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def ex(model_dir):
    from goftar.inference.extractor import Extractor

    return Extractor.from_pretrained(model_dir, progress=False)


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _docs(n: int) -> list[dict]:
    return [{"id": f"d{i}", "text": (TEXTS[i % len(TEXTS)] + " ") * (1 + i % 3)} for i in range(n)]


# -- 1. nothing a user gave is destroyed ------------------------------------------------------------
def test_predict_refuses_its_input_as_output(model_dir, tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", _docs(3))
    before = src.read_bytes()
    for out in (str(src), str(tmp_path / "." / "in.jsonl")):
        rc = main(["predict", "--model", str(model_dir), str(src), "-o", out, "--no-progress"])
        assert rc == 2
        assert src.read_bytes() == before
    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    assert main(["predict", "--model", str(model_dir), str(folder), "-o", str(folder / "a.txt")]) == 2
    assert (folder / "a.txt").read_text(encoding="utf-8") == TEXTS[0]
    assert "also an input" in capsys.readouterr().err


def test_convert_refuses_its_input_as_output_and_keeps_old_output_on_failure(tmp_path, monkeypatch):
    src = _jsonl(tmp_path / "x.jsonl", [{"id": "a", "text": "متن", "entities": []}])
    before = src.read_bytes()
    assert main(["convert", str(src), "-o", str(src)]) == 2
    assert src.read_bytes() == before
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    from goftar.inference import formats

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(formats, "write_jsonl", boom)
    assert main(["convert", str(src), "-o", str(out)]) == 3  # internal error, and the old output is intact
    assert out.read_text(encoding="utf-8") == "old\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")]


def test_non_empty_output_needs_resume_or_overwrite(model_dir, tmp_path, capsys):
    src = _jsonl(tmp_path / "in.jsonl", _docs(3))
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "precious"}\n', encoding="utf-8")
    assert main(["predict", "--model", str(model_dir), str(src), "-o", str(out), "--no-progress"]) == 2
    assert out.read_text(encoding="utf-8") == '{"id": "precious"}\n'
    assert "--resume" in capsys.readouterr().err
    assert main(["predict", "--model", str(model_dir), str(src), "-o", str(out), "--no-progress", "--overwrite"]) == 0
    assert [r["id"] for r in _lines(out)] == ["d0", "d1", "d2"]


def test_failed_overwrite_keeps_the_old_file(ex, tmp_path):
    from goftar.inference.predict import predict_files

    src = _jsonl(tmp_path / "in.jsonl", _docs(3))
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n', encoding="utf-8")

    class Broken:
        def stream(self, docs, **kw):
            yield from ex.stream(list(docs)[:1])
            raise RuntimeError("crash mid-run")

    with pytest.raises(RuntimeError):
        predict_files(None, [str(src)], str(out), overwrite=True, progress=False, extractor=Broken())
    assert out.read_text(encoding="utf-8") == '{"id": "old"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


# -- 2. one record, one result ----------------------------------------------------------------------
def test_api_one_document_per_bad_input(ex, monkeypatch):
    inputs = [
        {"id": "ok", "text": TEXTS[0]},
        {"id": "meta", "text": TEXTS[1], "meta": "not an object"},
        {"id": "num", "text": 5},
        "lone " + chr(0xD800) + " surrogate",
        {"id": {"nested": 1}, "text": TEXTS[2]},
        Document(id="doc", text=TEXTS[3], meta=[1, 2]),  # type: ignore[arg-type]
        12345,
        {"id": "rejected", "text": "the tokenizer refuses this one"},
    ]
    real = ex.encoder.encode

    def picky(text):
        if "refuses" in text:
            raise ValueError("no")
        return real(text)

    monkeypatch.setattr(ex.encoder, "encode", picky)
    docs = ex(inputs)
    assert len(docs) == len(inputs)
    assert docs[0].error is None and docs[0].id == "ok"
    assert "meta: expected an object" in docs[1].error
    assert "expected an object with a string 'text'" in docs[2].error
    assert "unpaired surrogate U+D800" in docs[3].error
    assert "id: expected a string or an integer" in docs[4].error
    assert "meta" in docs[5].error
    assert "expected text as a string" in docs[6].error
    assert "tokenizer rejected" in docs[7].error and docs[7].id == "rejected"
    for d in docs:
        d.to_json().encode("utf-8")  # every result can be written


def test_predict_reports_bad_records_with_file_and_line(model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a", "text": TEXTS[0]}, ensure_ascii=False),
        '{"id": "b", "text": "bad \\ud800 text"}',
        json.dumps({"id": "c", "text": TEXTS[1], "meta": [1]}, ensure_ascii=False),
        json.dumps({"id": "d", "text": TEXTS[2]}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(model_dir), str(src), "-o", str(out), "--no-progress"]) == 0
    rows = {r["id"]: r for r in _lines(out)}
    assert list(rows) == ["a", "b", "c", "d"]
    assert rows["b"]["error"].startswith(f"{src}:2: ") and "surrogate" in rows["b"]["error"]
    assert rows["c"]["error"].startswith(f"{src}:3: meta")
    assert "error" not in rows["a"] and "error" not in rows["d"]


def test_validate_and_convert_report_bad_records_and_go_on(tmp_path, capsys):
    src = tmp_path / "gold.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a", "text": "قالیباف گفت", "meta": "x"}, ensure_ascii=False),
        json.dumps({"id": "b", "text": "قالیباف گفت", "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 7, "category": [1]}]}, ensure_ascii=False),
        json.dumps({"id": "c", "text": "قالیباف گفت", "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 7, "score": "high"}]}, ensure_ascii=False),
        '{"id": "d", "text": "x \\udc00"}',
        json.dumps({"id": "e", "text": "قالیباف گفت", "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 7}]}, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    assert main(["validate", str(src), str(tmp_path / "missing.jsonl")]) == 1
    out = capsys.readouterr().out
    for line in (1, 2, 3, 4):
        assert f"{src}:{line}:" in out
    assert "missing.jsonl: no such file" in out
    conv = tmp_path / "conv.jsonl"
    assert main(["convert", str(src), "-o", str(conv)]) == 1
    assert [r["id"] for r in _lines(conv)] == ["e"]


def test_folder_entries_that_cannot_be_read_get_their_own_line(model_dir, tmp_path, capsys):
    folder = tmp_path / "arts"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    (folder / "B.TXT").write_text(TEXTS[1], encoding="utf-8")
    (folder / "dir.txt").mkdir()
    os.symlink(tmp_path / "nowhere.txt", folder / "broken.txt")
    (folder / "sub" / "c.txt").write_text(TEXTS[2], encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(model_dir), str(folder), "-o", str(out), "--no-progress"]) == 0
    rows = {r["id"]: r for r in _lines(out)}
    assert set(rows) == {"a", "B", "broken", "dir"}
    assert "error" not in rows["a"] and "error" not in rows["B"]
    assert "broken link" in rows["broken"]["error"] and "a folder" in rows["dir"]["error"]
    assert "1 subfolder(s) not read (pass --recursive" in capsys.readouterr().err
    out2 = tmp_path / "out2.jsonl"
    assert main(["predict", "--model", str(model_dir), str(folder), "-o", str(out2), "--no-progress", "--recursive"]) == 0
    assert "sub/c" in {r["id"] for r in _lines(out2)}


def test_json_arrays_label_studio_exports_and_legacy_encodings(model_dir, tmp_path):
    arr = tmp_path / "arr.json"
    arr.write_text(json.dumps([{"id": "j1", "text": TEXTS[0]}, {"id": "j2", "text": TEXTS[1]}], ensure_ascii=False, indent=2), encoding="utf-8")
    ls = tmp_path / "ls.json"
    ls.write_text(json.dumps([{"id": 7, "data": {"text": TEXTS[2]}, "annotations": []},
                              {"id": 8, "data": {"text": TEXTS[3], "source": "mehr"}}], ensure_ascii=False), encoding="utf-8")
    legacy = tmp_path / "old.txt"
    legacy.write_bytes(TEXTS[0].replace("ی", "ي").replace("ک", "ك").encode("cp1256"))
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(model_dir), str(arr), str(ls), "-o", str(out), "--no-progress"]) == 0
    rows = _lines(out)
    assert [r["id"] for r in rows] == ["j1", "j2", "7", "8"] and not any("error" in r for r in rows)
    assert rows[3]["meta"]["source"] == "mehr"
    out2 = tmp_path / "out2.jsonl"
    assert main(["predict", "--model", str(model_dir), str(legacy), "-o", str(out2), "--no-progress", "--encoding", "cp1256"]) == 0
    (row,) = _lines(out2)
    assert "error" not in row and row["text"].startswith("قاليباف")


# -- property: random JSON in every field ------------------------------------------------------------
def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | \
        st.text(st.characters(codec=None, categories=None), max_size=30)
    return st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=6)


def test_property_random_json_in_every_field_one_result_per_record(ex, tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from goftar.inference.formats import convert
    from goftar.inference.predict import Inputs
    from goftar.inference.validate import validate_files

    field = _json_values()
    record = st.fixed_dictionaries({}, optional={"id": field, "text": field | st.sampled_from(TEXTS), "meta": field,
                                                 "entities": field, "relations": field, "extra": field}) | field

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(record, min_size=1, max_size=6))
    def check(records):
        folder = tmp_path_factory.mktemp("prop")
        src = folder / "in.jsonl"
        # ensure_ascii: lone surrogates are spelled \udXXX, as a JSON file can hold them
        src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        docs = list(ex.stream(Inputs([str(src)]), batch_size=4))
        assert len(docs) == len(records)
        for d in docs:
            json.loads(d.to_json().encode("utf-8"))
        n, problems = validate_files([src])
        assert n == len(records)
        report = convert([src], folder / "out.jsonl")
        assert report.documents + len(report.problems) == len(records)

    check()


# -- 3. model folders checked before use ------------------------------------------------------------
def _copy(model_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "m"
    shutil.copytree(model_dir, dst)
    return dst


def test_checkpoint_missing_tensors_is_refused(model_dir, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    m = _copy(model_dir, tmp_path)
    sd = load_file(m / "model.safetensors")
    keep = dict(list(sd.items())[: len(sd) * 2 // 3])
    save_file(keep, m / "model.safetensors", metadata={"format": "pt"})
    from goftar.inference.extractor import Extractor

    with pytest.raises(ModelError, match=r"model\.safetensors: \d+ of the model's tensors are missing"):
        Extractor.from_pretrained(m)
    src = _jsonl(tmp_path / "in.jsonl", _docs(1))
    assert main(["predict", "--model", str(m), str(src), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tensors are missing" in err[0]
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("damage, expect", [
    ("config", r"config\.json: invalid JSON at line"),
    ("weights", r"model\.safetensors: truncated"),
    ("tokenizer", r"tokenizer\.json: missing"),
    ("tokenizer-truncated", r"tokenizer\.json: does not parse"),
    ("version", r"newer than this goftar"),
    ("shape", r"wrong shape or dtype"),
])
def test_damaged_model_folders_name_the_file(model_dir, tmp_path, damage, expect):
    from goftar.inference.checks import check_model_folder

    m = _copy(model_dir, tmp_path)
    if damage == "config":
        data = (m / "config.json").read_bytes()
        (m / "config.json").write_bytes(data[: len(data) // 2])
    elif damage == "weights":
        data = (m / "model.safetensors").read_bytes()
        (m / "model.safetensors").write_bytes(data[: len(data) - 1000])
    elif damage == "tokenizer":
        (m / "tokenizer.json").unlink()
    elif damage == "tokenizer-truncated":
        data = (m / "tokenizer.json").read_bytes()
        (m / "tokenizer.json").write_bytes(data[: len(data) // 3])
    elif damage == "version":
        cfg = json.loads((m / "config.json").read_text())
        cfg["goftar_version"] = "9.0.0"
        (m / "config.json").write_text(json.dumps(cfg))
    elif damage == "shape":
        cfg = json.loads((m / "config.json").read_text())
        cfg["relation_hidden"] = 7
        (m / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match=expect) as info:
        check_model_folder(m)
    assert "\n" not in str(info.value) and str(m) in str(info.value)


def test_export_folder_picked_without_backend(tmp_path, monkeypatch, model_dir):
    from goftar.inference import onnx_runtime
    from goftar.inference.checks import check_model_folder
    from goftar.inference.extractor import Extractor

    m = _copy(model_dir, tmp_path)
    cfg = json.loads((m / "config.json").read_text())
    cfg["onnx"] = {"files": {"int8": {"windows": "model.int8.onnx", "relations": "relation.onnx"}}}
    (m / "config.json").write_text(json.dumps(cfg))
    for f in ("model.int8.onnx", "relation.onnx"):
        (m / f).write_bytes(b"x" * 100)
    (m / "model.safetensors").unlink()
    assert check_model_folder(m) == "onnx"
    seen = {}

    def fake_load(path, threads=None, precision="int8"):
        seen["path"] = path
        raise ModelError("loaded as onnx")

    monkeypatch.setattr(onnx_runtime, "load_onnx", fake_load)
    with pytest.raises(ModelError, match="loaded as onnx"):
        Extractor.from_pretrained(m)  # default backend: auto
    with pytest.raises(ModelError, match="runs on the CPU"):
        Extractor.from_pretrained(m, device="cuda")


# -- 4. training configs ----------------------------------------------------------------------------
@pytest.mark.parametrize("yaml_text, expect", [
    ("train:\n  lr: 5e-5\n", r"train\.lr: expected a number, got the string '5e-5'"),
    ("train:\n  epochs: three\n", r"train\.epochs: expected an integer, got the string 'three'"),
    ("train:\n  seed: 1.5\n", r"train\.seed: expected an integer, got float 1\.5"),
    ("data:\n  train: data/train.jsonl\n", r"data\.train: expected a list of sources, got the string"),
    ("train:\n  batch_windows: 0\n", r"train\.batch_windows: must be at least 1, got 0"),
    ("data:\n  train:\n    - path: x.jsonl\n      layers: ne\n", r"data\.train\[0\]\.layers: expected a list of strings"),
    ("train:\n  mixed_precision: fp8\n", r"train\.mixed_precision: expected one of no, fp16, bf16"),
    ("model:\n  window_length: 64\n  window_stride: 128\n", r"model\.window_stride: must be at most window_length"),
    ("model:\n  encoder: x\n  window_length: 64\n    oops: 1\n", r"c\.yaml:4(:\d+)?: YAML syntax error"),
    ("", r"the config is empty"),
    ("# only a comment\n", r"the config is empty"),
])
def test_config_errors_name_file_key_and_type(tmp_path, yaml_text, expect):
    from goftar.training.config import ConfigError, load_config

    p = tmp_path / "c.yaml"
    p.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expect) as info:
        load_config(p)
    assert str(info.value).startswith(str(p))


def test_train_with_missing_init_from_is_a_missing_folder(tmp_path, capsys):
    p = tmp_path / "c.yaml"
    p.write_text(f"model:\n  init_from: {tmp_path / 'nope'}\ndata:\n  train: [x.jsonl]\n", encoding="utf-8")
    assert main(["train", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert "model.init_from: no such folder" in err and "Traceback" not in err


def test_keep_original_on_a_fresh_clone(tmp_path, monkeypatch, capsys):
    from goftar.training import train as train_mod

    seen = {}

    def fake_train(cfg, log=print, resume_from=None):
        seen["cfg"] = cfg
        return {"best_dev_selection": 0.0}

    monkeypatch.setattr(train_mod, "train", fake_train)
    theirs = _jsonl(tmp_path / "theirs.jsonl", [{"id": "t", "text": "x"}])
    monkeypatch.chdir(tmp_path)  # anywhere: project paths resolve against the checkout
    monkeypatch.setenv("GOFTAR_DATASETS", str(tmp_path / "no-datasets"))
    rc = main(["train", "--init-from", str(ROOT / "models" / "goftar-fa-small"), "--train", str(theirs),
               "--keep-original", "--output-dir", str(tmp_path / "run")])
    assert rc == 0
    paths = [s.path for s in seen["cfg"].data.train]
    assert paths == [str(ROOT / "data" / "train.jsonl"), str(theirs)]
    err = capsys.readouterr().err
    assert "PEYMA" in err and "ARMAN" in err and "GOFTAR_DATASETS" in err
    ds = tmp_path / "ds"
    (ds / "peyma").mkdir(parents=True)
    (ds / "arman").mkdir()
    for f in ("peyma/train.txt", "peyma/test.txt", "arman/train_fold1.txt"):
        (ds / f).write_text("x O\n", encoding="utf-8")
    monkeypatch.setenv("GOFTAR_DATASETS", str(ds))
    assert main(["train", "--init-from", str(ROOT / "models" / "goftar-fa-small"), "--train", str(theirs),
                 "--keep-original", "--output-dir", str(tmp_path / "run")]) == 0
    assert [s.format for s in seen["cfg"].data.train] == ["auto", "peyma", "arman", "auto"]


# -- 5. messages, not tracebacks ---------------------------------------------------------------------
def test_internal_error_exit_code_and_debug(monkeypatch, tmp_path, capsys):
    from goftar.inference import predict

    def boom(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(predict, "predict_files", boom)
    assert main(["predict", "x.txt"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["predict", "x.txt", "--debug"])
    assert main(["validate", str(tmp_path)]) == 1  # a folder given to validate: reported, not raised


def test_version_and_help_on_every_option(capsys):
    import argparse

    from goftar.cli import build_parser

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("goftar 0.")
    missing = []

    def walk(p, name):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for n, sp in a.choices.items():
                    walk(sp, n)
            elif not a.help and a.dest != "help":
                missing.append(f"{name} {a.option_strings or a.dest}")

    walk(build_parser(), "goftar")
    assert missing == []
    args = build_parser().parse_args(["predict", "x", "--device", "cuda:1"])
    assert args.device == "cuda:1" and args.backend == "auto"


BLOCK_TORCH = """
import sys
class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "accelerate"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Blocked())
from goftar.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_torch_free_install_names_the_extra(model_dir, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", _docs(1))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model:\n  init_from: {model_dir}\n", encoding="utf-8")
    for argv, extra in ((["predict", "--model", str(model_dir), str(src), "-o", str(tmp_path / "o.jsonl")], "goftar[torch]"),
                        (["train", "--config", str(cfg)], "goftar[")):
        r = subprocess.run([sys.executable, "-c", BLOCK_TORCH, *argv], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2, r.stderr
        assert extra in r.stderr and "Traceback" not in r.stderr


def test_no_progress_keeps_loading_bars_quiet(model_dir, tmp_path, capfd):
    src = _jsonl(tmp_path / "in.jsonl", _docs(2))
    assert main(["predict", "--model", str(model_dir), str(src), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]) == 0
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "goftar:" not in err and "2 documents" in err


# -- issue 11.1: runs that survive kills ------------------------------------------------------------
def test_resume_keeps_complete_lines_drops_a_truncated_one_and_runs_only_missing_ids(ex, tmp_path):
    from goftar.inference.predict import predict_files

    src = _jsonl(tmp_path / "in.jsonl", _docs(6))
    full = tmp_path / "full.jsonl"
    predict_files(None, [str(src)], str(full), progress=False, extractor=ex)
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / "out.jsonl"
    out.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")
    seen = []

    class Spy:
        def stream(self, docs, **kw):
            docs = list(docs)
            seen.extend(d.id for d in docs)
            return ex.stream(docs, **kw)

    n, errors = predict_files(None, [str(src)], str(out), progress=False, resume=True, extractor=Spy())
    assert seen == ["d3", "d4", "d5"] and n == 3
    assert out.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")


def _run_predict(model_dir, src, out, *extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "goftar.cli", "predict", "--model", str(model_dir), str(src), "-o", str(out),
           "--threads", "1", "--batch-size", "1", "--no-progress", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_sigkill_at_three_random_points_then_resume_equals_an_uninterrupted_run(model_dir, tmp_path):
    """SIGKILL three times at random line counts (once also cutting the last line in half, as a kill
    mid-write leaves it), resuming each time; then SIGTERM once: a clean stop with the resume command.
    The final output equals an uninterrupted run: same ids, each once, same content."""
    n_docs = 48
    src = _jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": " ".join(TEXTS[: 1 + i % 4]) * (1 + i % 5)} for i in range(n_docs)])
    ref = tmp_path / "ref.jsonl"
    p = _run_predict(model_dir, src, ref)
    assert p.wait(timeout=300) == 0, p.stderr.read()
    rng = random.Random(int(time.time()))
    out = tmp_path / "out.jsonl"
    targets = sorted(rng.sample(range(1, n_docs - 8), 3))
    for round_, target in enumerate(targets + ["term"]):
        p = _run_predict(model_dir, src, out, "--resume")
        goal = targets[-1] + 4 if target == "term" else target
        deadline = time.time() + 300
        while _count(out) < goal and p.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        if target == "term":
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=120)
            if p.returncode != 0:  # it may have finished first
                assert p.returncode == 130, err
                last = err.strip().splitlines()[-1]
                assert "interrupted" in last and "goftar predict" in last and "--resume" in last
        else:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=60)
            if round_ == 1:
                data = out.read_bytes()
                out.write_bytes(data + b'{"id": "d99", "text": "half a li')
    p = _run_predict(model_dir, src, out, "--resume")
    assert p.wait(timeout=300) == 0, p.stderr.read()
    got, want = _lines(out), _lines(ref)
    assert [r["id"] for r in got] == [f"d{i}" for i in range(n_docs)]
    assert got == want


# -- 6. cost linear in the text ---------------------------------------------------------------------
def test_relation_cumsum_computed_once_per_document(ex, monkeypatch):
    from goftar.inference import extractor as exmod
    from goftar.inference.decode import Mention

    text = "قالیباف گفت: روابط تجاری. " * 40
    T, H = 400, ex.runner.model.config.encoder["hidden_size"]
    hidden = np.random.default_rng(0).normal(size=(T, H)).astype(np.float32)
    mentions = []
    for i in range(60):
        mentions.append(Mention("PER", 6 * i, 6 * i + 2, 10 * i, 10 * i + 5))
        mentions.append(Mention("QUOTE", 6 * i + 3, 6 * i + 5, 10 * i + 6, 10 * i + 9))
    calls, sums = [], []
    real = ex.runner.run_relations

    def spy(h, heads, tails, feats, csum):
        calls.append(len(heads))
        sums.append(id(csum))
        return real(h, heads, tails, feats, csum)

    def run(chunk):
        monkeypatch.setattr(exmod, "PAIR_CHUNK", chunk)
        doc = Document("d", text)
        ex.link(doc, text, [Mention(**vars(m)) for m in mentions], hidden)
        return [(r.type, r.head, r.tail, r.score) for r in doc.relations]

    monkeypatch.setattr(ex.runner, "run_relations", spy)
    small = run(16)
    assert len(calls) > 10 and len(set(sums)) == 1  # many chunks, one cumulative sum
    calls.clear()
    sums.clear()
    big = run(100_000)
    assert len(calls) == 1
    assert [(a, b, c) for a, b, c, _ in small] == [(a, b, c) for a, b, c, _ in big]
    assert np.allclose([s for *_, s in small], [s for *_, s in big], atol=1e-4)
    import torch

    head = ex.runner.model.relation_head
    ht = torch.as_tensor(hidden)
    spans = torch.tensor([[0, 3], [5, 9], [100, 380]])
    feats = torch.zeros(3, 7, dtype=torch.long)
    with torch.inference_mode():
        a = head(ht, spans, spans.flip(0), feats)
        b = head(ht, spans, spans.flip(0), feats, torch.as_tensor(exmod.span_cumsum(hidden)))
    assert torch.allclose(a, b, atol=1e-4)


def test_quotes_view_is_not_quotes_times_persons(monkeypatch):
    from goftar.inference import quotes
    from goftar.inference.document import Entity, Relation

    n = 1500
    parts, ents, rels, pos = [], [], [], 0
    for i in range(n):
        name, quote = f"نام{i} فامیل{i}", f"جمله شماره {i}"
        parts.append(f"{name} گفت: {quote}. ")
        ents.append(Entity(f"P{i}", "PER", pos, pos + len(name)))
        qs = pos + len(name) + len(" گفت: ")
        ents.append(Entity(f"Q{i}", "QUOTE", qs, qs + len(quote)))
        rels.append(Relation("said_by", f"Q{i}", f"P{i}"))
        pos += len(parts[-1])
    doc = Document("d", "".join(parts), ents, rels)
    calls = [0]
    real = quotes._same_person_parts

    def counting(a, b):
        calls[0] += 1
        return real(a, b)

    monkeypatch.setattr(quotes, "_same_person_parts", counting)
    view = quotes.quotes_view(doc)
    assert len(view) == n and view[7]["speaker_name"] == "نام7 فامیل7"
    assert calls[0] < 10 * n  # was n × n


def test_progress_shows_a_total(model_dir, tmp_path, capfd):
    folder = tmp_path / "arts"
    folder.mkdir()
    for i in range(3):
        (folder / f"a{i}.txt").write_text(TEXTS[i], encoding="utf-8")
    src = _jsonl(tmp_path / "in.jsonl", _docs(2))
    assert main(["predict", "--model", str(model_dir), str(folder), str(src), "-o", str(tmp_path / "o.jsonl")]) == 0
    err = capfd.readouterr().err
    assert "5/5 [" in err  # a total, so tqdm shows an ETA
