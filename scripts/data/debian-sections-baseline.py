#!/usr/bin/env python3
"""Bag-of-words baselines on debian-sections: is the task learnable, and how hard is it?

Trains on the train split, reports accuracy on the test split, for word unigrams+bigrams (TF-IDF)
and for bags of the WordPiece ids the text model sees. Needs scikit-learn (and transformers for the
WordPiece rows), e.g. in a throwaway venv:
  python3 -m venv /tmp/hf && /tmp/hf/bin/pip install scikit-learn transformers
  /tmp/hf/bin/python scripts/data/debian-sections-baseline.py
"""
import gzip
import json
import os
from collections import Counter

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import NearestCentroid

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
DATA = os.path.join(ROOT, "packages/sfprompt/data/debian-sections.jsonl.gz")
VOCAB = os.path.join(ROOT, "packages/sfprompt/test/fixtures/wordpiece/vocab.txt")


def load():
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    split = {s: [r for r in rows if r["split"] == s] for s in ("train", "test")}
    return ([r["text"] for r in split["train"]], [r["label"] for r in split["train"]],
            [r["text"] for r in split["test"]], [r["label"] for r in split["test"]])


def report(name, y_test, pred):
    acc = accuracy_score(y_test, pred)
    f1 = f1_score(y_test, pred, average="macro")
    print(f"{name:72s} accuracy {100 * acc:5.1f} %   macro-F1 {100 * f1:5.1f} %")


def main():
    x_train, y_train, x_test, y_test = load()
    print(f"train {len(x_train)}, test {len(x_test)}, classes {len(set(y_train))}")
    majority = Counter(y_train).most_common(1)[0][0]
    report(f"majority class ({majority})", y_test, [majority] * len(y_test))
    features = {
        "word 1-2-grams TF-IDF": TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
    }
    try:
        from transformers import BertTokenizer

        tok = BertTokenizer(VOCAB)
        features["WordPiece ids TF-IDF (what the model sees)"] = TfidfVectorizer(
            tokenizer=tok.tokenize, lowercase=False, token_pattern=None, sublinear_tf=True)
    except ImportError:
        print("(transformers not installed: no WordPiece rows)")
    for fname, vec in features.items():
        a = vec.fit_transform(x_train)
        b = vec.transform(x_test)
        report(f"{fname} + nearest centroid", y_test, NearestCentroid().fit(a, y_train).predict(b))
        report(f"{fname} + multinomial NB", y_test, MultinomialNB(alpha=0.1).fit(a, y_train).predict(b))
        lr = LogisticRegression(C=10, max_iter=2000).fit(a, y_train)
        report(f"{fname} + logistic regression (C=10)", y_test, lr.predict(b))
    recall = classification_report(y_test, lr.predict(b), output_dict=True, zero_division=0)
    print("per-class recall, last model:", {c: round(100 * recall[c]["recall"]) for c in sorted(set(y_test))})


if __name__ == "__main__":
    main()
