"""Learn the mention typer (``transforms/typer.py``) from the CoNLL-2003 training articles.

    .venv/bin/python -m training.train_typer [--cv] [--out transforms/typer.json]

Each mention the rules find in ``conll/train`` (typer off) becomes one example: its features
(``transforms.resolve.typer_features``) and, as label, the gold type of the entity with
exactly its offsets, or NONE. A multinomial logistic regression with an L2 penalty is fitted
by L-BFGS (numpy + scipy, deterministic). ``--cv`` first scores 5 folds by article (the
split of ``training.evaluate.fold_of``): the typer trained on four folds, the mentions of the
fifth typed by it and scored with score.py's ``score_mentions``. Never reads ``dev``.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix

from training.evaluate import FOLDS, ROOT, Rows, articles, fold_of, load_gold, score_module
from transforms.typer import CLASSES, COARSE, TyperModel, entity_type_for, span_features

#: A feature seen in fewer training articles than this is left out (names of one story).
MIN_DOCS = 2
#: Strength of the L2 penalty (per example: the objective is the mean loss plus C2 * |w|^2).
L2 = 1e-5
#: Weights smaller than this are dropped from the committed model.
PRUNE = 0.02
MAX_ITER = 400


class Example:
    __slots__ = ("after_the", "etype", "feats", "file", "label", "text")

    def __init__(self, file: str, text: str, etype: str, feats: tuple[str, ...], label: str, after_the: bool):
        self.file, self.text, self.etype, self.feats, self.label = file, text, etype, feats, label
        self.after_the = after_the


def examples(split: str = "train") -> list[Example]:
    """One example per mention the rules find in CoNLL ``split``, labelled from gold."""
    from transforms.context import ExtractionContext
    from transforms.decode import decode_bytes
    from transforms.lexicons import build
    from transforms.parse import parse_article
    from transforms.resolve import resolve_article, typer_contexts
    from transforms.vocab import BODY, STANDFIRST, TITLE

    gold = load_gold("conll", split)
    ctx = ExtractionContext(build())
    ctx.typer = None
    out: list[Example] = []
    for path in articles("conll", split):
        text = decode_bytes(path.read_bytes()).text
        parsed = parse_article(text)
        fields = {TITLE: parsed.title, STANDFIRST: parsed.standfirst, BODY: parsed.body}
        ents = resolve_article(fields, ctx)
        offsets = {BODY: parsed.body_offset}
        for f in (TITLE, STANDFIRST):
            if fields[f]:
                offsets[f] = text.find(fields[f] or "")
        spans = {(e["start"], e["end"]): e["type"] for e in gold[path.name]["entities"]}
        for r, sctx in zip(ents.resolved, typer_contexts(ents, fields), strict=True):
            feats = span_features(sctx, ctx.lex)
            base = offsets.get(r.field, -1)
            label = spans.get((base + r.start, base + r.end), "NONE") if base >= 0 else "NONE"
            out.append(Example(path.name, r.text, r.entity_type, feats, label, r.text in ents.after_the))
    return out


def fit(train: list[Example], l2: float = L2) -> TyperModel:
    """Multinomial logistic regression on the examples' features."""
    docs: dict[str, set[str]] = collections.defaultdict(set)
    for ex in train:
        for f in ex.feats:
            docs[f].add(ex.file)
    vocab = sorted(f for f, d in docs.items() if len(d) >= MIN_DOCS)
    index = {f: i for i, f in enumerate(vocab)}
    rows, cols = [], []
    for k, ex in enumerate(train):
        for f in set(ex.feats):
            j = index.get(f)
            if j is not None:
                rows.append(k)
                cols.append(j)
    x = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(train), len(vocab)))
    y = np.array([CLASSES.index(ex.label) for ex in train])
    n, d, c = len(train), len(vocab), len(CLASSES)
    onehot = np.zeros((n, c))
    onehot[np.arange(n), y] = 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[:d * c].reshape(d, c)
        b = theta[d * c:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        val = -(onehot * logp).sum() / n + l2 * (w * w).sum()
        g = (p - onehot) / n
        gw = x.T @ g + 2 * l2 * w
        return val, np.concatenate([np.asarray(gw).ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(d * c + c), jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    w = res.x[:d * c].reshape(d, c)
    b = res.x[d * c:]
    weights = {f: [round(float(v), 3) for v in w[i]] for i, f in enumerate(vocab)
               if np.abs(w[i]).max() >= PRUNE}
    return TyperModel(weights, [round(float(v), 3) for v in b], 0.0)


def typed_rows(model: TyperModel | None, exs: list[Example]) -> Rows:
    """The mention rows score.py reads, typed by the model (None: the rules' types)."""
    mentions = []
    for ex in exs:
        etype = ex.etype
        if model is not None:
            etype = entity_type_for(model.classify(ex.feats, COARSE[ex.etype]), ex.etype,  # type: ignore[arg-type]
                                    ex.after_the)
        mentions.append({"source_path": ex.file, "text": ex.text, "entity_type": etype})
    return Rows([], mentions)


def cross_validate(exs: list[Example], margins: tuple[float, ...] = (0.0,), l2: float = L2) -> dict[float, list[dict]]:
    sc = score_module()
    gold = load_gold("conll", "train")
    out: dict[float, list[dict]] = {m: [] for m in margins}
    out[-1.0] = []  # the rules alone
    for k in range(FOLDS):
        train = [ex for ex in exs if fold_of(ex.file) != k]
        test = [ex for ex in exs if fold_of(ex.file) == k]
        g = {name: v for name, v in gold.items() if fold_of(name) == k}
        model = fit(train, l2)
        out[-1.0].append(sc.score_mentions(typed_rows(None, test), g, False))
        for m in margins:
            model.margin, model.memo = m, {}
            out[m].append(sc.score_mentions(typed_rows(model, test), g, False))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv", action="store_true", help="score 5 folds by article first")
    ap.add_argument("--margin", type=float, default=0.0, help="logit margin before a rule's class is overridden")
    ap.add_argument("--out", default=str(ROOT / "transforms" / "typer.json"))
    a = ap.parse_args(argv)
    exs = examples("train")
    print(f"{len(exs)} mentions from conll/train; labels {collections.Counter(ex.label for ex in exs)}")
    if a.cv:
        res = cross_validate(exs, (a.margin,))
        for m, folds in res.items():
            name = "rules" if m < 0 else f"typer (margin {m})"
            mean = {t: sum(r[t]["f1"] for r in folds) / len(folds) for t in ("PER+ORG+LOC", "PER", "ORG", "LOC")}
            print(f"5-fold CV {name}: " + ", ".join(f"{t} {v:.4f}" for t, v in mean.items()))
    model = fit(exs)
    data = {"about": "newsetl mention typer: multinomial logistic regression learned by training/train_typer.py "
                     "from CoNLL-2003 train (see docs/model-card.md)",
            "classes": list(CLASSES), "margin": a.margin, "bias": model.bias,
            "weights": dict(sorted(model.weights.items()))}
    Path(a.out).write_text(json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {a.out}: {len(model.weights)} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
