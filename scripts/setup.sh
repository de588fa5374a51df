#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, idempotently: Debian packages (as root),
# npm packages, and the TypeScript build. Heavier, optional pieces (Kubernetes test binaries,
# PyTorch for regenerating fixtures) have their own scripts and are cached under ~/.cache/.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
bash scripts/find-nats-server.sh >/dev/null || need_apt+=(nats-server)
# openssl: the test control plane's PKI (kube-testing) and checks of the webhook's certificates.
command -v openssl >/dev/null || need_apt+=(openssl)
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
# strace: cli run-dir-race holds a run's system call while another run releases (ADR 0016 amendment 24).
command -v strace >/dev/null || need_apt+=(strace)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing Debian packages ${need_apt[*]}; run as root or: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

stamp=node_modules/.sfprompt-install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# scikit-learn's 8x8 digits (the `digits` built-in dataset): optional, extracted from a .deb.
bash scripts/fetch-sklearn-digits.sh || echo "setup: digits dataset unavailable (optional); the digits built-in will not load" >&2

echo "setup: building TypeScript"
npx tsc -b
# `npm ci` on a fresh clone ran before dist/ existed, so npm linked no `sfprompt` bin; link it now
# (without it `npx sfprompt` would look for a package of that name on the registry).
if [ ! -e node_modules/.bin/sfprompt ]; then
  npm rebuild @sfprompt/cli --ignore-scripts --no-audit --no-fund >/dev/null
fi
