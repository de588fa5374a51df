#!/bin/sh
# What `node --test` starts in node's place for each test file (group-per-file.cjs sets it as
# process.execPath): the same node, running file-supervisor.mjs with the file's node arguments.
exec "${SFPROMPT_TEST_NODE:-node}" "$(dirname "$0")/file-supervisor.mjs" "$@"
