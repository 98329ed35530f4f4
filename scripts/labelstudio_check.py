"""Run goftar's Label Studio loop against a real, local Label Studio server.

    .venv/bin/python scripts/labelstudio_check.py        # or: make labelstudio-check

1. Predict a handful of corpus test articles with the shipped model, plus one
   copy of an article rewritten with CRLF line breaks and emoji; write them
   with ``goftar convert --to labelstudio --as-predictions`` and the config
   with ``goftar labelstudio-config`` (the real commands, as subprocesses).
2. Install ``label-studio`` and ``label-studio-sdk`` (pinned below) into a
   separate venv ``.venv-ls`` (heavy: not part of the test extra), start a
   server on 127.0.0.1 with a temporary data folder, and through the SDK:
   create a project with that config, import the tasks with their
   predictions, create one annotation per task from its prediction (as an
   annotator who accepts it would), export the project as JSON.
3. Read the export back with goftar and compare with what was sent: spans,
   categories and relations unchanged, ``model_version`` and scores kept,
   ``goftar validate`` clean. The server is stopped at the end, whatever
   happened (terminate, then kill after a bounded wait).

The result (versions, counts, mismatches) is printed and written to
``runs/labelstudio-check/result.json``; the exit status is 0 only when
everything round-tripped. The SDK step runs inside .venv-ls (``--sdk-step``)
and never imports goftar.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LS_VENV = ROOT / ".venv-ls"
LS_PINS = ["label-studio==1.23.2", "label-studio-sdk==2.1.2"]
USER, PASSWORD, TOKEN = "goftar@localhost", "goftar-check-only", "goftar0check0token0000000000000000000000"


# ---------------------------------------------------------------------------
# the SDK step (runs in .venv-ls)
# ---------------------------------------------------------------------------


def sdk_step(args: argparse.Namespace) -> int:
    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=args.url, api_key=args.token)
    config = Path(args.config).read_text(encoding="utf-8")
    tasks = json.loads(Path(args.tasks).read_text(encoding="utf-8"))
    project = ls.projects.create(title="goftar check", label_config=config)
    imported = ls.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    made = 0
    for task in ls.tasks.list(project=project.id, fields="all"):
        preds = [p for p in (task.predictions or [])]
        if not preds:
            continue
        p = preds[0]
        result = p["result"] if isinstance(p, dict) else p.result
        pid = p["id"] if isinstance(p, dict) else p.id
        ls.annotations.create(id=task.id, result=result, parent_prediction=pid, was_cancelled=False)
        made += 1
    chunks = ls.projects.exports.download_sync(id=project.id, export_type="JSON", download_all_tasks=True)
    with open(args.export, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    info = {"project": project.id, "imported": getattr(imported, "task_count", None), "annotations_created": made}
    Path(args.export).with_suffix(".sdk.json").write_text(json.dumps(info), encoding="utf-8")
    print(json.dumps(info))
    return 0


# ---------------------------------------------------------------------------
# the goftar side
# ---------------------------------------------------------------------------


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def ensure_ls_venv() -> dict[str, str]:
    py = LS_VENV / "bin" / "python"
    if not py.exists():
        _run([sys.executable, "-m", "venv", LS_VENV])
    versions = {}
    for pin in LS_PINS:
        name, _, want = pin.partition("==")
        got = subprocess.run([py, "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
                             capture_output=True, text=True).stdout.strip()
        if got != want:
            _run([py, "-m", "pip", "install", "-q", *LS_PINS])
            break
    for pin in LS_PINS:
        name = pin.partition("==")[0]
        versions[name] = subprocess.run([py, "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
                                        capture_output=True, text=True, check=True).stdout.strip()
    return versions


def crlf_emoji_copy(doc):
    """The article with CRLF line breaks and emoji at the start and in its first line, offsets moved along."""
    from goftar.inference.document import Document, Entity

    text = doc.text
    first_nl = text.find("\n")
    marks = {0: "🙂 "}
    if first_nl > 0:
        marks[first_nl] = " 📰"  # before the first line break: every later span moves by the emoji too

    starts: dict[int, int] = {}
    ends: dict[int, int] = {0: 0}
    buf: list[str] = []
    n = 0
    for k, ch in enumerate(text):
        if k in marks:  # inserted before character k: outside any span that starts or ends there
            buf.append(marks[k])
            n += len(marks[k])
        starts[k] = n
        piece = "\r\n" if ch == "\n" else ch
        buf.append(piece)
        n += len(piece)
        ends[k + 1] = n
    new_text = "".join(buf)
    ents = [Entity(e.id, e.type, starts[e.start], ends[e.end], e.category) for e in doc.entities]
    for e, old in zip(ents, doc.entities):
        assert new_text[e.start:e.end].replace("\r\n", "\n").replace(" 📰", "") == text[old.start:old.end], e
    return Document(doc.id + "-crlf-emoji", new_text, ents, list(doc.relations), dict(doc.meta))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, limit: float) -> None:
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"label-studio exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise RuntimeError(f"label-studio did not answer {url}/health within {limit:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _content(doc) -> tuple:
    return (doc.text, sorted((e.id, e.type, e.start, e.end, e.category) for e in doc.entities),
            sorted((r.type, r.head, r.tail) for r in doc.relations))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdk-step", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url"), ap.add_argument("--token"), ap.add_argument("--config"), ap.add_argument("--tasks")
    ap.add_argument("--export")
    ap.add_argument("--articles", type=int, default=4, help="corpus test articles to send (default 4)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "labelstudio-check"))
    ap.add_argument("--startup-limit", type=float, default=240.0, help="seconds to wait for the server")
    args = ap.parse_args()
    if args.sdk_step:
        return sdk_step(args)

    from goftar.inference import Extractor
    from goftar.inference.document import read_jsonl, write_jsonl
    from goftar.inference.formats import ImportNote, iter_labelstudio
    from goftar.inference.validate import validate_files

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "python": sys.version.split()[0],
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"}
    result["versions"] = ensure_ls_venv()
    gold = read_jsonl(ROOT / "data" / "test.jsonl")[: args.articles]
    inputs = gold + [crlf_emoji_copy(gold[0])]
    ex = Extractor.from_pretrained()
    preds = ex([{"id": d.id, "text": d.text, "meta": {"model_version": "goftar-fa-small"}} for d in inputs])
    for d in preds:
        d.quotes = None
    assert "\r\n" in preds[-1].text and any(ord(c) > 0xFFFF for c in preds[-1].text)
    write_jsonl(preds, out / "pred.jsonl")
    goftar = ROOT / ".venv" / "bin" / "goftar"
    _run([goftar, "convert", out / "pred.jsonl", "--to", "labelstudio", "--as-predictions", "-o", out / "tasks.json"])
    with open(out / "config.xml", "w", encoding="utf-8") as f:
        _run([goftar, "labelstudio-config"], stdout=f)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="goftar-ls-")
    env = {**os.environ, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "COLLECT_ANALYTICS": "false",
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "DJANGO_DB": "sqlite",
           "LABEL_STUDIO_BASE_DATA_DIR": data_dir}  # nothing of this run outside the temporary folder
    log = open(out / "server.log", "w", encoding="utf-8")
    cmd = [LS_VENV / "bin" / "label-studio", "start", "--no-browser", "--internal-host", "127.0.0.1",
           "--port", str(port), "--data-dir", data_dir, "--username", USER, "--password", PASSWORD,
           "--user-token", TOKEN, "--enable-legacy-api-token"]
    print("+ " + " ".join(map(str, cmd)), flush=True)
    t0 = time.time()
    server = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)
    ok = False
    try:
        wait_up(url, server, args.startup_limit)
        result["server_start_s"] = round(time.time() - t0, 1)
        _run([LS_VENV / "bin" / "python", __file__, "--sdk-step", "--url", url, "--token", TOKEN,
              "--config", out / "config.xml", "--tasks", out / "tasks.json", "--export", out / "export.json"])
        result["sdk"] = json.loads((out / "export.sdk.json").read_text(encoding="utf-8"))

        notes: list[ImportNote] = []
        back = {d.id: d for d in iter_labelstudio(out / "export.json", notes=notes)}
        sent = {d.id: d for d in preds}
        export = json.loads((out / "export.json").read_text(encoding="utf-8"))
        mismatches = [doc_id for doc_id, d in sent.items() if doc_id not in back or _content(back[doc_id]) != _content(d)]
        # the JSON export lists predictions by id; each annotation made from one carries it in full
        sent_scores = {t["data"]["doc_id"]: t["predictions"][0]["score"]
                       for t in json.loads((out / "tasks.json").read_text(encoding="utf-8"))}
        kept_preds = all(
            (a := (t.get("annotations") or [{}])[0].get("prediction") or {}).get("model_version") == "goftar-fa-small"
            and a.get("score") == sent_scores[t["data"]["doc_id"]] for t in export)
        region_scores_kept = all(
            r.get("score") is not None for t in export for r in t["annotations"][0]["result"] if r["type"] == "labels")
        n, problems = validate_files([out / "export.json"])
        result.update({
            "tasks_sent": len(sent), "tasks_exported": len(export), "documents_read_back": len(back),
            "spans_sent": sum(len(d.entities) for d in preds), "relations_sent": sum(len(d.relations) for d in preds),
            "mismatched_documents": mismatches, "import_notes": [str(x) for x in notes],
            "predictions_kept_model_version_and_score": kept_preds, "region_scores_kept": region_scores_kept,
            "task_scores_sent": sent_scores, "validate_problems": problems,
            "crlf_emoji_article": preds[-1].id,
        })
        ok = (not mismatches and not notes and kept_preds and region_scores_kept and not problems
              and len(back) == len(sent) and result["sdk"]["annotations_created"] == len(sent))
    finally:
        stop(server)
        log.close()
        result["server_stopped"] = server.poll() is not None
        with socket.socket() as s:
            result["port_free_after_stop"] = s.connect_ex(("127.0.0.1", port)) != 0
        shutil.rmtree(data_dir, ignore_errors=True)
    result["wall_s"] = round(time.time() - started, 1)
    result["ok"] = ok
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
