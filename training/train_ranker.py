"""Learn the speaker ranker (``transforms/ranker.py``) from PolNeAR's training articles.

    .venv/bin/python -m training.train_ranker [--cv] [--out transforms/ranker.json]

The quotes of ``polnear/train`` are extracted with the ranker off; each quote that matches a
gold quote with a speaker (score.py's matching) gives its candidates (``quotes._candidates``)
and, as labels, which of them score.py would count right (the gold speaker's last word among
the candidate's words or its canonical speaker's). A conditional logit (a softmax over the
candidates of a quote) with an L2 penalty is fitted by L-BFGS. ``--cv`` scores 5 folds by
article: the ranker fitted on four, the fifth extracted with it and scored by score.py.
Never reads ``dev``.
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
from transforms.ranker import RankerModel

MIN_QUOTES = 3  # a feature seen with fewer quotes than this is left out
L2 = 3e-4
PRUNE = 0.01
MAX_ITER = 500


def run(paths: list[Path], ctx, collect: bool) -> tuple[Rows, dict[str, list]]:
    """Extract the quotes of articles; with ``collect``, their candidates and features too."""
    from transforms.decode import decode_bytes
    from transforms.parse import parse_article
    from transforms.quotes import extract_quotes
    from transforms.resolve import resolve_article
    from transforms.vocab import BODY, STANDFIRST, TITLE

    quotes: list[dict] = []
    collected: dict[str, list] = {}
    loaded: set[str] = set()
    for path in sorted(paths):
        dec = decode_bytes(path.read_bytes())
        if dec.sha256 in loaded:  # as the flow loads them: the same bytes twice are one article
            continue
        loaded.add(dec.sha256)
        parsed = parse_article(dec.text)
        ents = resolve_article({TITLE: parsed.title, STANDFIRST: parsed.standfirst, BODY: parsed.body}, ctx)
        got: list = []
        found = extract_quotes(parsed.body, parsed.blocks, ents, got if collect else None)
        collected[path.name] = got
        quotes += [{"source_path": path.name, "text": q.text, "speaker": q.speaker, "speaker_text": q.speaker_text}
                   for q in found]
    return Rows(quotes, []), collected


def groups(collected: dict[str, list], gold: dict[str, dict]) -> list[tuple[str, list[list[str]], list[bool]]]:
    """(file, candidates' features, which are right) of each quote matched to a gold speaker."""
    sc = score_module()
    out = []
    for name, items in collected.items():
        gq = gold[name]["quotes"]
        gf = [sc.words(sc.fold(x["text"])) for x in gq]
        pf = [sc.words(sc.fold(q.text)) for q, _, _ in items]
        cands = [(s, i, j) for i, a in enumerate(gf) for j, b in enumerate(pf) if (s := sc.same_quote(a, b))]
        used_g: set[int] = set()
        used_p: set[int] = set()
        for _, i, j in sorted(cands, reverse=True):
            if i in used_g or j in used_p:
                continue
            used_g.add(i)
            used_p.add(j)
            if not gq[i].get("speaker"):
                continue
            gw = sc.words(gq[i]["speaker"])
            _, cs, feats = items[j]
            if not cs or not gw:
                continue
            labels = [gw[-1] in set(sc.words(c[1])) | set(sc.words(c[5])) for c in cs]
            out.append((name, feats, labels))
    return out


def fit(data: list[tuple[str, list[list[str]], list[bool]]], l2: float = L2) -> RankerModel:
    """Conditional logit over the candidates of each quote with at least one right one."""
    data = [g for g in data if any(g[2])]
    seen: dict[str, set[int]] = collections.defaultdict(set)
    for k, (_, feats, _) in enumerate(data):
        for f in feats:
            for x in f:
                seen[x].add(k)
    vocab = sorted(x for x, qs in seen.items() if len(qs) >= MIN_QUOTES)
    index = {x: i for i, x in enumerate(vocab)}
    rows, cols, right, starts = [], [], [], []
    r = 0
    for _, feats, labels in data:
        starts.append(r)
        for f, ok in zip(feats, labels, strict=True):
            for x in set(f):
                j = index.get(x)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
            right.append(ok)
            r += 1
    x = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(r, len(vocab)))
    ok = np.array(right, dtype=bool)
    group = np.repeat(np.arange(len(data)), np.diff(np.array([*starts, r])))
    nq = len(data)

    def lse(z: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per group log-sum-exp of z over mask, and the softmax weights within it."""
        m = np.full(nq, -np.inf)
        np.maximum.at(m, group[mask], z[mask])
        e = np.where(mask, np.exp(z - m[group]), 0.0)
        s = np.bincount(group, weights=e, minlength=nq)
        return m + np.log(s), e / s[group]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        all_lse, p_all = lse(z, np.ones(r, dtype=bool))
        ok_lse, p_ok = lse(z, ok)
        val = (all_lse - ok_lse).sum() / nq + l2 * (w @ w)
        g = x.T @ (p_all - p_ok) / nq + 2 * l2 * w
        return float(val), np.asarray(g).ravel()

    res = minimize(loss, np.zeros(len(vocab)), jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    return RankerModel({v: round(float(res.x[i]), 3) for i, v in enumerate(vocab) if abs(res.x[i]) >= PRUNE}, 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv", action="store_true", help="score 5 folds by article first")
    ap.add_argument("--l2", type=float, default=L2)
    ap.add_argument("--out", default=str(ROOT / "transforms" / "ranker.json"))
    a = ap.parse_args(argv)
    from transforms.context import build_context

    ctx = build_context()
    ctx.ranker = None
    paths = articles("polnear", "train")
    gold = load_gold("polnear", "train")
    _, collected = run(paths, ctx, True)
    data = groups(collected, gold)
    print(f"{len(data)} quotes with a gold speaker; a right candidate for {sum(any(g[2]) for g in data)}")
    if a.cv:
        sc = score_module()
        res: dict[str, list[dict]] = {"rules": [], "ranker": []}
        for k in range(FOLDS):
            model = fit([g for g in data if fold_of(g[0]) != k], a.l2)
            held = [p for p in paths if fold_of(p.name) == k]
            g = {n: v for n, v in gold.items() if fold_of(n) == k}
            ctx.ranker = None
            res["rules"].append(sc.score_quotes(run(held, ctx, False)[0], g))
            ctx.ranker = model
            res["ranker"].append(sc.score_quotes(run(held, ctx, False)[0], g))
            print(f"fold {k}: rules {res['rules'][-1]['summary']}; ranker {res['ranker'][-1]['summary']}", flush=True)
        ctx.ranker = None
        for name, folds in res.items():
            print(f"5-fold CV {name}: " + ", ".join(
                f"{m} {sum(r[m] for r in folds) / len(folds):.4f}" for m in ("speaker_accuracy", "f1", "precision")))
    model = fit(data, a.l2)
    out = {"about": "newsetl speaker ranker: conditional logit learned by training/train_ranker.py from PolNeAR "
                    "train (see docs/model-card.md)",
           "bias": model.bias, "weights": dict(sorted(model.weights.items()))}
    Path(a.out).write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {a.out}: {len(model.weights)} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
