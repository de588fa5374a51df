#!/usr/bin/env bash
# Prints the nats-server binary `sfprompt run` will use, or exits 1: $NATS_SERVER_BIN when set, else
# PATH, then /usr/sbin, /usr/bin, /usr/local/bin (the order of @sfprompt/protocol's findNatsServer).
# The Debian package installs /usr/sbin/nats-server, which a non-root user's PATH usually lacks.
set -uo pipefail
if [ -n "${NATS_SERVER_BIN:-}" ]; then
  [ -x "$NATS_SERVER_BIN" ] && { echo "$NATS_SERVER_BIN"; exit 0; }
  exit 1
fi
IFS=: read -ra dirs <<<"${PATH:-}"
for d in "${dirs[@]}" /usr/sbin /usr/bin /usr/local/bin; do
  [ -n "$d" ] && [ -x "$d/nats-server" ] && [ ! -d "$d/nats-server" ] && { echo "$d/nats-server"; exit 0; }
done
exit 1
