"""`goftar validate` reads every format `goftar convert` reads and names file:line or file:task."""
from __future__ import annotations

import json
from pathlib import Path

from goftar.inference.validate import validate_files
from goftar.cli import main

TEXT = "قالیباف رئیس مجلس گفت: روابط تجاری مهم است."
# قالیباف 0-7, رئیس مجلس 8-17, مجلس 13-17, quote 23-42, تجاری 29-34


def _ls_region(rid, start, end, label, layer="ne"):
    return {"id": rid, "from_name": layer, "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def test_label_studio_export(tmp_path: Path, capsys) -> None:
    clean = [_ls_region("a", 0, 7, "PER"), _ls_region("b", 23, 42, "QUOTE", "quote"),
             {"from_id": "b", "to_id": "a", "type": "relation", "direction": "right", "labels": ["said_by"]}]
    overlap = [_ls_region("a", 0, 7, "PER"), _ls_region("c", 5, 12, "LOC")]           # same layer: a problem
    flawed = [_ls_region("a", 0, 8, "PER"),                                             # trailing space: repaired
              _ls_region("z", 13, 17, "ORGANISATION")]                                  # not in the schema: dropped
    tasks = [{"id": 1, "data": {"text": TEXT}, "annotations": [{"result": clean}]},
             {"id": 2, "data": {"text": TEXT}, "annotations": [{"result": overlap}]},
             {"id": 3, "data": {"text": TEXT}, "annotations": [{"result": flawed}]},
             {"id": 4, "data": {"text": TEXT}, "annotations": [], "predictions": [{"result": clean}]}]
    path = tmp_path / "project-1-at-2026.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    warnings: list[str] = []
    n, problems = validate_files([path], warnings=warnings)
    assert n == 3  # task 4 has no human annotation: skipped, with a warning
    assert problems == [
        f"{path}:task 2 labelstudio-2: c: overlaps a in layer 'ne' (0-7 and 5-12)",
        f"{path}:task 3:region z: label 'ORGANISATION' is not in the schema (types: PER, ORG, LOC, FAC, PRO, "
        "EVENT, DATE, TIME, MONEY, PERCENT, ROLE, SECTOR, QUOTE); span dropped",
    ]
    assert [w.split(": ")[0] for w in warnings] == [f"{path}:task 3:region a", f"{path}:task 4"]
    n, _ = validate_files([path], accept_predictions=True)
    assert n == 4
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 and "2 warnings" in captured.err


def test_doccano_jsonl(tmp_path: Path) -> None:
    good = {"id": 1, "text": TEXT, "entities": [{"id": 1, "label": "PER", "start_offset": 0, "end_offset": 7}],
            "relations": []}
    bad = {"id": 2, "text": TEXT, "entities": [{"id": 5, "label": "SECTOR", "start_offset": 29, "end_offset": 34}],
           "relations": []}
    path = tmp_path / "doccano.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in (good, bad, good)) + "\n{oops\n",
                    encoding="utf-8")
    n, problems = validate_files([path])
    assert n == 4
    assert problems[0] == f"{path}:2 doccano-2: T5: SECTOR without a category"
    assert problems[1] == f"{path}:3 doccano-1: document id also used at {path}:1"
    assert problems[2].startswith(f"{path}:4: invalid JSON")


def test_brat_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "a.ann").write_text("T1\tPER 0 7\tقالیباف\nT2\tSECTOR 29 34\tتجاری\nA1\tCategory T2 TRADE\n",
                                  encoding="utf-8")
    (folder / "b.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.ann").write_text("T1\tPERSON 0 7\tقالیباف\n", encoding="utf-8")
    (folder / "c.txt").write_text(TEXT, encoding="utf-8")
    (folder / "c.ann").write_text("T1\tPER 0 9\tقالیباف\n", encoding="utf-8")  # text disagrees: a broken pair
    n, problems = validate_files([folder])
    assert n == 3
    assert problems[0].startswith(f"{folder / 'b.ann'} b: T1: unknown entity type 'PERSON'")
    assert problems[1].startswith(f"{folder / 'c.ann'}:1: T1 text")
    assert main(["validate", str(folder)]) == 1 and "Traceback" not in capsys.readouterr().err


def test_bio_files(tmp_path: Path) -> None:
    path = tmp_path / "peyma-dev.txt"
    good = "قالیباف|B_PER\nرئیس|O\nمجلس|B_ORG\nگفت|O\n\n" * 5
    path.write_text(good + "تهران|B_LOC\nو|O\nقم|X_LOC\n\nمشهد|B_LOC\n", encoding="utf-8")
    n, problems = validate_files([path])
    assert n == 7
    assert problems == [f"{path}:28: bad tag 'X_LOC' (a peyma tag is O, B_TYPE or I_TYPE)"]
    n, problems = validate_files([path], fmt="arman")  # a wrong --from is a problem per sentence, not a crash
    assert n == 7 and len(problems) == 7 and problems[0].startswith(f"{path}:1: ")


def test_goftar_jsonl_keeps_line_numbers(tmp_path: Path) -> None:
    doc = {"id": "d1", "text": TEXT, "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 8}]}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    n, problems = validate_files([path])
    assert n == 1 and problems == [f"{path}:1 d1: T1: span ends with white space or punctuation (end=8 ' ')"]


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("just some prose\nwithout tags\n", encoding="utf-8")
    n, problems = validate_files([tmp_path / "nope.jsonl", odd])
    assert n == 0 and problems[0] == f"{tmp_path / 'nope.jsonl'}: no such file or folder"
    assert "cannot tell the format" in problems[1]
