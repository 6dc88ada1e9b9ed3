#!/usr/bin/env bash
# Set up and run MCPbox on this machine: install what is missing, build
# (Release) into build/, then `mcpbox up` on the embedded SQLite database in
# ./data (or $MCPBOX_DATA_DIR). Extra arguments go to `mcpbox up`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/bin/mcpbox up --data-dir "${MCPBOX_DATA_DIR:-./data}" "$@"
