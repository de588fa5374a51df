#!/usr/bin/env bash
# The README's first command: the demo SFPrompt job, locally, with no cluster. Installs what is
# missing (scripts/setup.sh), then runs examples/demo-job.yaml: the project's own ViT, pre-trained on
# Fashion-MNIST on first use (cached under ~/.cache/sfprompt/models), prompt-tuned on MNIST by 8
# clients (Dirichlet α = 0.5) over a local nats-server. Results go to runs/demo/.
#
# Extra arguments go to `sfprompt run`: --fresh (start clean), --resume, --compare (also run every
# baseline and print the comparison table), --rounds N, --out DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The built entry point directly: on a fresh clone `npm ci` ran before dist/ existed, so npm linked
# no `sfprompt` bin and `npx sfprompt` would look for it on the registry.
exec node packages/cli/dist/main.js run examples/demo-job.yaml "$@"
