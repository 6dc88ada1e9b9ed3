#!/usr/bin/env bash
# Soak runs outside CI: the same tests as CI, larger and repeated.
#
#   scripts/soak.sh logs [CALLS] [REPEATS]
#
# logs: integration/test_logs_up.py's burst (tool calls from 8 callers with
# logkeeper killed twice, then every answered call has exactly one
# execution log row) with CALLS calls (default 50000; CI runs 10000), REPEATS
# times (default 3), against build-test (or $MCPBOX_BUILD_DIR), built first.
# Each run is printed with its time; the first failure stops the soak
# (exit 1) and leaves the pytest output in /tmp/mcpbox-soak-logs.N.log.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/soak.sh logs [CALLS] [REPEATS]" >&2; exit 2; }
[ "${1:-}" = "logs" ] || usage
calls="${2:-50000}"
repeats="${3:-3}"
case "$calls$repeats" in *[!0-9]*|"") usage ;; esac
[ "$calls" -ge 1 ] && [ "$repeats" -ge 1 ] || usage

build="${MCPBOX_BUILD_DIR:-$PWD/build-test}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCPBOX_TEST_HOOKS=ON >/dev/null
cmake --build "$build" -j2 >/dev/null

for run in $(seq 1 "$repeats"); do
  log="/tmp/mcpbox-soak-logs.$run.log"
  start=$(date +%s)
  echo "soak logs: run $run/$repeats, $calls calls, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  if MCPBOX_LOGS_BURST="$calls" MCPBOX_BUILD_DIR="$build" /usr/bin/python3 -m pytest -q \
       integration/test_logs_up.py -k burst >"$log" 2>&1; then
    echo "soak logs: run $run passed in $(( $(date +%s) - start )) s"
    rm -f "$log"
  else
    echo "soak logs: run $run FAILED after $(( $(date +%s) - start )) s; output in $log"
    tail -n 30 "$log"
    exit 1
  fi
done
echo "soak logs: $repeats runs of $calls calls passed"
