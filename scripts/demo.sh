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
# npm links the bin before the build exists, so make sure the built entry point is executable.
chmod +x packages/cli/dist/main.js
exec npx --no-install sfprompt run examples/demo-job.yaml "$@"
