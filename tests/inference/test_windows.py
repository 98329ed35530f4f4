"""Window merge: a span longer than the window overlap and a relation between mentions in
different windows are recovered. A fake network stands in for the model, so the test checks
goftar's own windowing, owner choice and document-level assembly, nothing learned."""
import numpy as np
from tokenizers import Tokenizer, pre_tokenizers, processors
from tokenizers.models import WordLevel

from goftar.inference.extractor import Extractor
from goftar.inference.schema import Schema

WORDS = ("Ali Reza said : q0 q1 q2 q3 q4 q5 q6 q7 q8 q9 . then Sara came w0 w1 w2 w3 w4 w5 w6 w7 w8").split()


def tokenizer():
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    for w in WORDS:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return tok, vocab


class FakeNetwork:
    """Labels come from the token ids; hidden states are one-hot token ids."""

    def __init__(self, vocab, layer_labels, relation_types):
        self.vocab, self.layers, self.rels = vocab, layer_labels, relation_types
        self.windows_seen = 0

    def gold(self, word):
        if word in ("Ali", "Sara"):
            return "ne", "B-PER"
        if word == "Reza":
            return "ne", "I-PER"
        if word.startswith("q"):
            return "quote", "B-QUOTE" if word == "q0" else "I-QUOTE"
        return None, None

    def run_windows(self, ids, mask):
        self.windows_seen += len(ids)
        inv = {i: w for w, i in self.vocab.items()}
        n, L = ids.shape
        hidden = np.zeros((n, L, len(self.vocab)), dtype=np.float32)
        logits = [np.zeros((n, L, len(labs)), dtype=np.float32) for labs in self.layers.values()]
        for b in range(n):
            for t in range(L):
                hidden[b, t, ids[b, t]] = 1.0
                layer, lab = self.gold(inv[int(ids[b, t])])
                for li, (name, labs) in enumerate(self.layers.items()):
                    logits[li][b, t, labs.index(lab) if name == layer else 0] = 10.0
        return hidden, logits

    def run_relations(self, hidden, heads, tails, feats):
        out = np.zeros((len(heads), 1 + len(self.rels)), dtype=np.float32)
        out[:, 0] = 5.0
        for p, ((hs, _), (ts, _)) in enumerate(zip(heads, tails)):
            if hidden[hs, self.vocab["q0"]] == 1.0 and hidden[ts, self.vocab["Ali"]] == 1.0:
                out[p, 1 + self.rels.index("said_by")] = 20.0
        return out


def test_span_and_relation_across_window_edges():
    schema = Schema.default()
    tok, vocab = tokenizer()
    config = {
        "schema": schema.to_dict(), "layer_labels": {l: schema.layer_labels(l) for l in schema.layers},
        "relation_types": list(schema.relations), "normalizer": {}, "window_length": 10, "window_stride": 4,
    }
    net = FakeNetwork(vocab, config["layer_labels"], config["relation_types"])
    ex = Extractor(net, tok, config)
    text = " ".join(WORDS)
    enc = ex.encoder.encode(text)
    assert len(enc.windows) >= 6  # 8 tokens per window: the quote (10 tokens) cannot fit one
    quote_tokens = range(WORDS.index("q0"), WORDS.index("q9") + 1)
    assert len({int(enc.owner[t][0]) for t in quote_tokens}) >= 2  # read from several windows
    doc = ex([text], batch_size=3)[0]
    got = {(e.type, text[e.start:e.end]) for e in doc.entities}
    assert ("QUOTE", "q0 q1 q2 q3 q4 q5 q6 q7 q8 q9") in got
    assert ("PER", "Ali Reza") in got and ("PER", "Sara") in got
    by_id = doc.by_id()
    said = [(text[by_id[r.head].start:by_id[r.head].end], text[by_id[r.tail].start:by_id[r.tail].end])
            for r in doc.relations if r.type == "said_by"]
    assert said == [("q0 q1 q2 q3 q4 q5 q6 q7 q8 q9", "Ali Reza")]
    assert doc.quotes[0]["speaker_name"] == "Ali Reza"
    assert net.windows_seen == len(enc.windows)
