#!/bin/sh
# Configure an optimised, unsanitised build in build-bench, build a benchmark
# (and the binaries it runs), then run it. The bus benchmark by default;
# a first argument naming another one picks it. Other arguments go to the
# benchmark, e.g.  bench/run.sh --json   bench/run.sh --rounds 5
#                  bench/run.sh e2e --calls 1000   bench/run.sh sandbox
# `logs` runs two: log_bench (ingest rate; ARGS go to it), then
# e2e_bench --logs (tools/call with execution logs on vs off, defaults;
# run `bench/run.sh e2e --logs ARGS` for other arguments).
# `hosts` runs bench/hosts_bench.py (as root: it builds network namespaces):
# tool calls per second with 1, 2 and 4 executor hosts, I/O- and CPU-bound.
# `web` runs bench/web_bench.mjs (the dashboard's weight and time to
# interactive in chromium) against the whole build: ARGS go to it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="${BUILD_DIR:-$root/build-bench}"
bench=bus_bench
case "${1:-}" in
    bus|sandbox|e2e) bench="$1_bench"; shift ;;
    logs)
        shift
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCPBOX_SANITIZE=OFF >/dev/null
        cmake --build "$build" -j"$(nproc)" --target log_bench e2e_bench >/dev/null
        "$build/bin/log_bench" "$@"
        echo
        exec "$build/bin/e2e_bench" --logs ;;
    hosts)
        shift
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCPBOX_SANITIZE=OFF >/dev/null
        cmake --build "$build" -j"$(nproc)" >/dev/null
        MCPBOX_BUILD_DIR="$build" exec python3 "$root/bench/hosts_bench.py" "$@" ;;
    web)
        shift
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCPBOX_SANITIZE=OFF >/dev/null
        cmake --build "$build" -j"$(nproc)" >/dev/null
        [ -x "$root/integration/node/node_modules/.bin/node" ] \
            || (cd "$root/integration/node" && npm ci --no-audit --no-fund >/dev/null)
        cd "$root/integration/node"
        MCPBOX_BUILD_DIR="$build" exec ./node_modules/.bin/node "$root/bench/web_bench.mjs" "$@" ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCPBOX_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "$bench" >/dev/null
exec "$build/bin/$bench" "$@"
