"""Precision, recall and F1 of the negative-review detector (kefu/complaints/sentiment.py, AUTO-3).

    .venv/bin/python bench/sentiment.py [--data ../shared/data/chinese_online_shopping_reviews] [--errors 20]

Data: online_shopping_10_cats (62,774 labelled reviews; label 0 = negative, the class we detect).
The split is fixed by a hash of the review text: bucket 0 of 5 (~20 %) is held out. The lexicon
weights and NEGATIVE_THRESHOLD were tuned by looking only at the training split; the figures to
quote are the held-out ones. `--errors N` prints N misclassified training reviews (never held-out).
"""

import argparse
import csv
import hashlib
import io
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kefu.complaints.sentiment import analyse  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "chinese_online_shopping_reviews"


def load(folder: Path) -> list[tuple[str, bool, str]]:
    """(category, is_negative, text) of every labelled review."""
    with zipfile.ZipFile(folder / "online_shopping_10_cats.zip") as z:
        text = z.read("online_shopping_10_cats.csv").decode("utf-8")
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        if r["label"] in ("0", "1") and r["review"]:
            rows.append((r["cat"], r["label"] == "0", r["review"]))
    return rows


def held_out(text: str) -> bool:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0


def measure(rows) -> dict:
    tp = fp = fn = tn = 0
    for _, neg, text in rows:
        pred = analyse(text).negative
        tp += pred and neg
        fp += pred and not neg
        fn += (not pred) and neg
        tn += (not pred) and (not neg)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    acc = (tp + tn) / max(1, tp + fp + fn + tn)
    return {"n": tp + fp + fn + tn, "precision": p, "recall": r, "f1": f1, "accuracy": acc}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--errors", type=int, default=0)
    args = ap.parse_args()
    rows = load(args.data)
    train = [r for r in rows if not held_out(r[2])]
    test = [r for r in rows if held_out(r[2])]
    print(f"reviews: {len(rows)}  train: {len(train)}  held-out: {len(test)}  (positive class = negative review)")
    for name, part in (("train", train), ("held-out", test)):
        m = measure(part)
        print(f"{name:9} n={m['n']:6d}  precision={m['precision']:.3f}  recall={m['recall']:.3f}  "
              f"F1={m['f1']:.3f}  accuracy={m['accuracy']:.3f}")
    by_cat = defaultdict(list)
    for r in test:
        by_cat[r[0]].append(r)
    print("held-out by category:")
    for cat, part in sorted(by_cat.items()):
        m = measure(part)
        print(f"  {cat:4} n={m['n']:5d}  P={m['precision']:.3f}  R={m['recall']:.3f}  F1={m['f1']:.3f}")
    if args.errors:
        shown = 0
        for cat, neg, text in train:
            if analyse(text).negative != neg:
                a = analyse(text)
                print(f"[{'NEG' if neg else 'POS'} {a.score:+.1f}] {cat} {text[:90]}  {a.hits[:6]}")
                shown += 1
                if shown >= args.errors:
                    break


if __name__ == "__main__":
    main()
