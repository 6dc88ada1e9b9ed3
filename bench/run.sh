#!/bin/sh
# Configure an optimised, unsanitised build in build-bench, build the bus
# benchmark (and the mcpbox-broker it runs), then run it. Arguments go to
# bus_bench, e.g.  bench/run.sh --json   or   bench/run.sh --rounds 5
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="${BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCPBOX_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target bus_bench mcpbox-broker >/dev/null
exec "$build/bin/bus_bench" "$@"
