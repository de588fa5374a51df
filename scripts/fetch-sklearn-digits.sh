#!/usr/bin/env bash
# Extracts scikit-learn's digits.csv.gz (1,797 8×8 digits, BSD licence) from Debian's python3-sklearn
# .deb into ~/.cache/sfprompt/sklearn/ without installing the package (and its SciPy stack).
# Optional: only the sklearn-digits loader and its real-data test use it.
set -euo pipefail
dest="${HOME}/.cache/sfprompt/sklearn"
[ -f "$dest/digits.csv.gz" ] && exit 0
src=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
mkdir -p "$dest"
if [ -f "$src" ]; then cp "$src" "$dest/"; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download python3-sklearn >/dev/null 2>&1) || {
  echo "fetch-sklearn-digits: apt-get download python3-sklearn failed (no Debian mirror reachable?)" >&2
  exit 1
}
dpkg-deb -x "$tmp"/python3-sklearn_*.deb "$tmp/x"
cp "$tmp/x$src" "$dest/digits.csv.gz"
echo "fetch-sklearn-digits: wrote $dest/digits.csv.gz"
