"""Check the annotated batches against the rules that guide 1.1 decided (report, and fix with --fix).

    python data/tools/guide11.py                 # report: one section per rule, every hit with context
    python data/tools/guide11.py --summary       # hit counts per rule only
    python data/tools/guide11.py --fix           # apply the mechanical fixes to batch-K.src.jsonl, re-anchor

Reads the anchored ``data/annotations/batch-*.jsonl`` (offsets) and edits the
surface-string files ``batch-K.src.jsonl`` (the source of truth): a changed
span gets its new surface string and an occurrence number ``n`` counted from
the start of the text (its ``after`` is dropped); a deleted span takes its
relations with it. Spans not touched keep their ``n``/``after`` exactly. After
editing, every batch is re-anchored with anchor.py and each changed span is
checked to land on the intended offsets.

Rules checked (the names are the section titles of the report; the guide
section "Decisions of guide 1.1" of the annotation guide (docs/ANNOTATION.md) is the authority):

R1  rank/honorific inside a PER or a ROLE that is only a rank/honorific
R2  LOC «استان/شهرستان/کشور X» → LOC «X» (not «استان مرکزی»)
R3  SECTOR «اقتصاد مقاومتی» (slogan) → «اقتصاد»
R4  SECTOR inside the name of a body (commission, group, council, committee, headquarters) → removed
R5  SECTOR on a macro indicator («تورم», «نقدینگی», «رکود», «بدهی») → removed
R6  QUOTE said_by a news outlet → QUOTE removed (narration)
R7  QUOTE without said_by whose speaker is named later in the article (report only: needs reading)
R8  said_by of a pronoun/dropped subject not at the nearest earlier PER of that speaker (report only)
R9  headline QUOTE that spans a «|» → one QUOTE per segment (report only)
R10 DATE/TIME pieces: «امروز» + weekday/date with nothing between → one DATE
R11 recurring categories, single sports, bare «دام»
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANN = ROOT / "data" / "annotations"

RANKS = ["سرلشکر", "سرتیپ", "سردار", "سرهنگ", "سپهبد", "ارتشبد", "دریادار", "ژنرال", "امیر", "حجت‌الاسلام",
         "حجت الاسلام", "حجت‌الاسلام والمسلمین", "آیت‌الله", "آیت الله", "آیت‌الله العظمی", "دکتر", "آقای", "مهندس",
         "حضرت", "خانم", "سرکار خانم", "شیخ"]
BODY = re.compile(r"(کمیسیون|کمسیون|گروه|شورای|شورا|کمیته|ستاد|کارگروه|فراکسیون|هیئت|هیات|مجمع)$")
MACRO = {"تورم", "نقدینگی", "رکود", "بدهی", "رکودتورمی", "رشداقتصادی"}
OUTLET = re.compile(r"(خبرگزاری|روزنامه|سایت|پایگاه|رویترز|آسوشیتدپرس|فرانس|شبکه|تلویزیون|رادیو|ایرنا|ایسنا|مهر|تسنیم|فارس|بی ?بی ?سی|نیویورک|واشنگتن|گاردین|بلومبرگ|شینهوا|اسپوتنیک|الجزیره)")
SPEECH = re.compile(r"(گفت|افزود|اظهار|تصریح|خاطرنشان|اعلام|بیان|عنوان|تاکید|تأکید|ادامه داد|یادآور|توضیح|نوشت|مدعی)")
SPORTS = {"فوتبال", "والیبال", "بسکتبال", "فوتسال", "کشتی", "تکواندو", "هندبال", "وزنه‌برداری", "شنا", "کاراته", "جودو"}
# guide 1.1 "Categories that recur" (normalised surface, ZWNJ and spaces removed → category)
RECUR = {
    "بودجه": "BANKING_FINANCE", "مالیات": "BANKING_FINANCE", "مالیاتی": "BANKING_FINANCE", "ارز": "BANKING_FINANCE",
    "ارزی": "BANKING_FINANCE", "سهام": "BANKING_FINANCE", "بورس": "BANKING_FINANCE", "وام": "BANKING_FINANCE",
    "تسهیلات": "BANKING_FINANCE", "بیمه": "BANKING_FINANCE", "تسهیلاتبانکی": "BANKING_FINANCE",
    "مسکن": "SOCIAL_LABOR", "مسکونی": "SOCIAL_LABOR", "ساختوساز": "SOCIAL_LABOR", "یارانه": "SOCIAL_LABOR",
    "یارانهها": "SOCIAL_LABOR", "اشتغال": "SOCIAL_LABOR", "بیکاری": "SOCIAL_LABOR", "بیمهبیکاری": "SOCIAL_LABOR",
    "تامیناجتماعی": "SOCIAL_LABOR", "جمعیت": "SOCIAL_LABOR", "شغل": "SOCIAL_LABOR", "اشتغالزایی": "SOCIAL_LABOR",
    "سلاحهستهای": "SECURITY_DEFENSE", "سلاحهایهستهای": "SECURITY_DEFENSE", "کلاهکهستهای": "SECURITY_DEFENSE",
    "تسلیحاتهستهای": "SECURITY_DEFENSE", "هستهای": "ENERGY", "آب": "ENVIRONMENT", "منابعآب": "ENVIRONMENT",
    "فضایی": "TECHNOLOGY", "وارداتی": "TRADE", "صادراتی": "TRADE", "قاچاق": "TRADE", "دامی": "AGRICULTURE_FOOD",
    "دامپروری": "AGRICULTURE_FOOD", "دامپزشکی": "AGRICULTURE_FOOD", "مدارس": "EDUCATION", "بانکها": "BANKING_FINANCE",
    "ورزشی": "CULTURE_TOURISM",
}
# a sentence break or a pronoun subject between the said_by tail and the quote: the quote's subject is not that mention
BREAK = re.compile(r"(\.\s|\n|(^|\s)(وی|وي|او|ایشان|ايشان)\s)")
WEEKDAY = re.compile(r"^(شنبه|یکشنبه|یک‌شنبه|دوشنبه|سه‌شنبه|سه شنبه|چهارشنبه|پنجشنبه|پنج‌شنبه|جمعه)")


def norm(s: str) -> str:
    s = s.replace("ي", "ی").replace("ك", "ک").replace("ة", "ه").replace("ۀ", "ه").replace("أ", "ا").replace("إ", "ا")
    s = s.replace("ؤ", "و")
    return re.sub(r"[\s\u200c\u200d\u200e\u200f\u200b\u064b-\u065f]", "", s)


def _rows(path: Path) -> list[dict]:
    """Every JSON line of ``path``; the first broken one raises its DocumentError (a ValueError naming file:line)."""
    from goftar.inference.document import DocumentError, iter_json_lines

    rows = []
    for _, _, obj in iter_json_lines(path):
        if isinstance(obj, DocumentError):
            raise obj
        rows.append(obj)
    return rows


def load(ann: Path = ANN, skipped: list[str] | None = None):
    """``{batch: (anchored docs, src rows)}`` for every batch whose two files agree. A batch that cannot be
    read (a missing src file, broken JSON, documents in another order, e.g. while an annotator is mid-edit)
    is left out and named in ``skipped``, so the other batches are still checked."""
    batches = {}
    for p in sorted(ann.glob("batch-*.jsonl")):
        if p.name.endswith((".src.jsonl", ".text.jsonl")):
            continue
        src = p.with_name(p.stem + ".src.jsonl")
        try:
            if not src.is_file():
                raise ValueError(f"{src.name} is missing")
            docs, srcs = _rows(p), _rows(src)
            ids, src_ids = [d.get("id") for d in docs], [s.get("id") for s in srcs]
            if ids != src_ids:
                first = next((i for i, (a, b) in enumerate(zip(ids, src_ids)) if a != b), min(len(ids), len(src_ids)))
                raise ValueError(f"its documents differ from {src.name} from document {first + 1} on "
                                 f"({len(ids)} vs {len(src_ids)} documents); re-anchor it with data/tools/anchor.py")
        except ValueError as exc:
            msg = f"{p}: skipped: {exc}"
            print(msg, file=sys.stderr)
            if skipped is not None:
                skipped.append(msg)
            continue
        batches[p.stem] = (docs, srcs)
    return batches


def ctx(text, s, e, w=35):
    return (text[max(0, s - w):s] + "[" + text[s:e] + "]" + text[e:e + w]).replace("\n", "⏎")


class Edits:
    """Edits to one document, applied to its src spec by entity id."""

    def __init__(self):
        self.span = {}      # id -> (start, end)
        self.cat = {}       # id -> category
        self.delete = set()
        self.tail = {}      # (type, head) -> new tail
        self.add = []       # (entity dict with start/end, relations)
        self.why = []


def per_rules(doc, E, report, counts):
    t = doc["text"]
    ents = {e["id"]: e for e in doc["entities"]}
    rels = doc["relations"]
    said = {r["head"]: r["tail"] for r in rels if r["type"] == "said_by"}
    roleof = {r["head"]: r["tail"] for r in rels if r["type"] == "role_of"}
    bytype = defaultdict(list)
    for e in doc["entities"]:
        bytype[e["type"]].append(e)
    did = doc["id"]

    def hit(rule, e, msg, s=None, en=None):
        counts[rule] += 1
        report[rule].append(f"- {did} {e['id']} {e['type']}@{e['start']}: {ctx(t, e['start'] if s is None else s, e['end'] if en is None else en)} — {msg}")

    # R1 ranks / honorifics
    for e in bytype["PER"] + bytype["ROLE"]:
        for r in sorted(RANKS, key=len, reverse=True):
            if e["text"].startswith(r + " ") or e["text"].startswith(r + "\u200c"):
                if e["type"] == "ROLE":
                    hit("R1", e, "ROLE starts with a rank/honorific (review)")
                else:
                    ns = e["start"] + len(r)
                    while t[ns] in " \u200c":
                        ns += 1
                    E.span[e["id"]] = (ns, e["end"])
                    hit("R1", e, f"trim «{r}» off the PER → «{t[ns:e['end']]}»")
                break
        if e["type"] == "ROLE" and norm(e["text"]) in {norm(r) for r in RANKS}:
            E.delete.add(e["id"])
            hit("R1", e, "ROLE is a rank/honorific → removed")
    # R2 استان/شهرستان/کشور X
    for e in bytype["LOC"]:
        m = re.match(r"^(استان|شهرستان|کشور|كشور)[ \u200c]+", e["text"])
        if m and not norm(e["text"]).endswith("مرکزی"):
            E.span[e["id"]] = (e["start"] + m.end(), e["end"])
            hit("R2", e, f"→ LOC «{e['text'][m.end():]}»")
    # R3 اقتصاد مقاومتی
    for e in bytype["SECTOR"]:
        if norm(e["text"]).startswith("اقتصادمقاومتی"):
            E.span[e["id"]] = (e["start"], e["start"] + len(e["text"].split()[0]))
            E.cat[e["id"]] = "ECONOMY"
            hit("R3", e, "→ SECTOR «اقتصاد» ECONOMY")
    # R4 sector inside a body's name: the word before the sector (skipping other sectors/«و») is a body noun
    names = [(x["start"], x["end"]) for x in bytype["ORG"] + bytype["ROLE"]]
    for e in bytype["SECTOR"]:
        before = t[max(0, e["start"] - 60):e["start"]]
        words = re.split(r"[ \u200c]+", before.strip())
        # walk back over words of the same noun phrase: other sector words, «و», adjectives are not checked
        k = len(words) - 1
        steps = 0
        found = None
        while k >= 0 and steps < 4:
            w = words[k]
            if re.search(r"[.،؛:\n()«»\"]", w):
                break
            if BODY.search(norm(w)):
                found = w
                break
            k -= 1
            steps += 1
        if found:
            hit("R4", e, f"after body noun «{found}» (review)")
    # R5 macro indicators
    for e in bytype["SECTOR"]:
        if norm(e["text"]) in MACRO:
            E.delete.add(e["id"])
            hit("R5", e, "macro indicator → removed")
    # R6 outlet speaker
    for e in bytype["QUOTE"]:
        tl = said.get(e["id"])
        if tl and ents[tl]["type"] == "ORG" and OUTLET.search(norm(ents[tl]["text"])):
            hit("R6", e, f"said_by ORG «{ents[tl]['text']}» (review: outlet?)", e["start"], min(e["end"], e["start"] + 40))
    # R7 quotes without said_by
    for e in bytype["QUOTE"]:
        if e["id"] not in said:
            later = [x for x in bytype["PER"] + bytype["ROLE"] if x["start"] >= e["end"]]
            hit("R7", e, f"no said_by; later PER/ROLE: {[x['text'] for x in later[:3]]}", e["start"], min(e["end"], e["start"] + 40))
    # R8 said_by to a ROLE when that person's PER is earlier, and the ROLE is not the subject next to the quote;
    #    said_by to a PER when the same name occurs nearer before the quote
    for e in bytype["QUOTE"]:
        tl = said.get(e["id"])
        if not tl:
            continue
        x = ents[tl]
        if x["type"] == "ROLE" and x["id"] in roleof:
            p = ents[roleof[x["id"]]]
            gap = t[x["end"]:e["start"]]
            if p["end"] <= e["start"] and x["end"] <= e["start"] and BREAK.search(gap):
                hit("R8", e, f"said_by ROLE «{x['text']}»@{x['start']} but PER «{p['text']}»@{p['start']} earlier (review)",
                    e["start"], min(e["end"], e["start"] + 40))
        if x["type"] == "PER":
            same = [y for y in bytype["PER"] if y["id"] != x["id"] and y["end"] <= e["start"]
                    and (norm(y["text"]) in norm(x["text"]) or norm(x["text"]) in norm(y["text"]))]
            nearer = [y for y in same if y["start"] > x["start"]]
            gap = t[x["end"]:e["start"]] if x["end"] <= e["start"] else ""
            if nearer and x["end"] <= e["start"] and BREAK.search(gap):
                y = max(nearer, key=lambda y: y["start"])
                hit("R8", e, f"said_by PER «{x['text']}»@{x['start']}, nearer earlier «{y['text']}»@{y['start']} (review)",
                    e["start"], min(e["end"], e["start"] + 40))
            if x["start"] >= e["end"] and same:
                hit("R8", e, f"said_by a later PER «{x['text']}» although «{same[-1]['text']}» is earlier (review)",
                    e["start"], min(e["end"], e["start"] + 40))
    # R9 headline QUOTE across «|»
    first_nl = t.find("\n")
    for e in bytype["QUOTE"]:
        if e["start"] < first_nl and "|" in e["text"]:
            hit("R9", e, "headline QUOTE spans «|»")
    # R10 adjacent DATE pieces
    dt = sorted(bytype["DATE"] + bytype["TIME"], key=lambda x: x["start"])
    for a, b in zip(dt, dt[1:]):
        gap = t[a["end"]:b["start"]]
        if gap.strip(" \u200c") == "" and a["type"] == b["type"] == "DATE":
            hit("R10", a, f"DATE «{a['text']}» + DATE «{b['text']}» with nothing between → one DATE", a["start"], b["end"])
            E.span[a["id"]] = (a["start"], b["end"])
            E.delete.add(b["id"])
            E.why.append(("merge", b["id"], a["id"]))
    for e in bytype["DATE"] + bytype["TIME"]:
        if e["type"] == "TIME" and re.search(r"(شنبه|جمعه|ماه|\d{4}|[۰-۹]{4})", e["text"]):
            hit("R10", e, "TIME holds a date (review: two spans)")
    # R11 recurring categories, sports, دام
    for e in bytype["SECTOR"]:
        n = norm(e["text"])
        if n in SPORTS:
            E.delete.add(e["id"])
            hit("R11", e, "single sport → removed")
        elif n == "دام":
            hit("R11", e, "bare «دام» (review: no sector unless a field in a list)")
        elif n in RECUR and e.get("category") != RECUR[n]:
            E.cat[e["id"]] = RECUR[n]
            hit("R11", e, f"{e.get('category')} → {RECUR[n]}")
        elif n == "جهادکشاورزی":
            E.delete.add(e["id"])
            hit("R11", e, "«جهاد کشاورزی» is the ministry (ORG), no sector")


def apply(doc, spec, E):
    t = doc["text"]
    ents = {e["id"]: e for e in spec["entities"]}
    for i, (s, en) in E.span.items():
        if i in E.delete:
            continue
        e = ents[i]
        surf = t[s:en]
        n = 0
        pos = -1
        while True:
            pos = t.find(surf, pos + 1)
            n += 1
            if pos == s:
                break
            assert pos >= 0
        e["text"] = surf
        e["n"] = n
        e.pop("after", None)
    for i, c in E.cat.items():
        if i not in E.delete:
            ents[i]["category"] = c
    # relations of a merged DATE move to the survivor
    moved = {old: new for kind, old, new in E.why if kind == "merge"}
    spec["entities"] = [e for e in spec["entities"] if e["id"] not in E.delete]
    out = []
    for r in spec.get("relations", []):
        ty, h, tl = (r if isinstance(r, list) else [r["type"], r["head"], r["tail"]])
        h, tl = moved.get(h, h), moved.get(tl, tl)
        if h in E.delete or tl in E.delete:
            continue
        out.append([ty, h, tl])
    spec["relations"] = out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--fix", action="store_true")
    a = ap.parse_args(argv)
    skipped: list[str] = []
    batches = load(skipped=skipped)
    report, counts = defaultdict(list), defaultdict(int)
    plans = {}
    for b, (docs, srcs) in batches.items():
        for d, s in zip(docs, srcs):
            E = Edits()
            per_rules(d, E, report, counts)
            plans[(b, d["id"])] = (d, s, E)
    for rule in sorted(counts, key=lambda r: int(r[1:])):
        print(f"## {rule}: {counts[rule]}")
        if not a.summary:
            print("\n".join(report[rule]) + "\n")
    if not a.fix:
        return 1 if skipped else 0
    changed = defaultdict(int)
    for (b, did), (d, s, E) in plans.items():
        if E.span or E.cat or E.delete:
            apply(d, s, E)
            changed[b] += 1
    for b, (docs, srcs) in batches.items():
        if not changed[b]:
            continue
        src = ANN / f"{b}.src.jsonl"
        src.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in srcs), encoding="utf-8")
        subprocess.run([sys.executable, str(ROOT / "data/tools/anchor.py"), str(src), str(ANN / f"{b}.jsonl")], check=True)
    # check that every moved span landed where it was meant to
    after = load()
    bad = 0
    for (b, did), (d, s, E) in plans.items():
        nd = {x["id"]: x for x in next(x for x in after[b][0] if x["id"] == did)["entities"]}
        for i, (st, en) in E.span.items():
            if i in E.delete:
                continue
            if (nd[i]["start"], nd[i]["end"]) != (st, en):
                print(f"{b} {did} {i}: anchored at {nd[i]['start']}-{nd[i]['end']}, meant {st}-{en}", file=sys.stderr)
                bad += 1
    print(f"fixed documents per batch: {dict(changed)}", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} batch(es) skipped, not checked or fixed (above)", file=sys.stderr)
    return 1 if bad or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
