"""`goftar predict` and `goftar evaluate` in-process: inputs of every kind, bad ones reported, none lost."""
import json

from goftar.cli import main


def _lines(path):
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]


def test_predict_txt_folder_and_jsonl_with_bad_inputs(trained_tiny, tmp_path, seed_doc, capsys):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_doc.text, encoding="utf-8")
    (folder / "b.txt").write_bytes("خبر \xff".encode("utf-8")[:-2] + b"\xff\xfe bad")  # invalid UTF-8
    jl = tmp_path / "in.jsonl"
    jl.write_text("\n".join([
        json.dumps({"id": "x1", "text": "قالیباف گفت: روابط تجاری مهم است."}, ensure_ascii=False),
        '{"id": "x2", "text": "broken',
        json.dumps({"id": "x3", "text": ""}),
        json.dumps({"id": "x4", "nottext": 1}),
        json.dumps({"id": "x5", "text": "Latin only."}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "deep" / "out.jsonl"
    rc = main(["predict", "--model", str(trained_tiny), str(folder), str(jl), "-o", str(out), "--batch-size", "4"])
    assert rc == 0
    rows = _lines(out)
    assert [r["id"] for r in rows] == ["a", "b", "x1", "in:2", "x3", "x4", "x5"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"]["text"] == seed_doc.text and "quotes" in by_id["a"]
    assert "invalid UTF-8 at byte offset" in by_id["b"]["error"] and "b.txt" in by_id["b"]["error"]
    assert by_id["in:2"]["error"].startswith(f"{jl}:2: invalid JSON")
    assert "expected an object with a string 'text'" in by_id["x4"]["error"]
    assert by_id["x3"]["entities"] == [] and "error" not in by_id["x3"]
    assert "error" not in by_id["x5"]
    err = capsys.readouterr().err
    assert f"{jl}:2" in err and "7 documents, 3 with errors" in err


def test_evaluate_command_scores_a_checkpoint(trained_tiny, seed_path, tmp_path, capsys):
    rc = main(["evaluate", "--model", str(trained_tiny), "--data", str(seed_path), "--json", str(tmp_path / "m.json")])
    assert rc == 0
    m = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert m["documents"]["gold"] == 1 and 0.0 <= m["entities"]["ne"]["micro"]["f1"] <= 1.0
    assert "speaker attribution" in capsys.readouterr().out
