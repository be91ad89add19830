#!/usr/bin/env bash
# buf breaking (FILE rules) of the working tree's proto/ against the main branch; skipped with a
# message when main has no contracts yet (the first commit that adds them).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
against="${1:-main}"
if ! git cat-file -e "${against}:proto/seal/v1/types.proto" 2>/dev/null; then
  echo "buf breaking: ${against} has no proto/seal/v1 yet; nothing to compare against, skipped"
  exit 0
fi
exec libs/proto/node_modules/.bin/buf breaking --against ".git#branch=${against}"
