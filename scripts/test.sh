#!/usr/bin/env bash
# Build and run every test (the README's test command; .ci/run calls it).
#   1. unit tests (cmocka via ctest) under AddressSanitizer + UBSan   build-asan/
#   2. integration tests (pytest) against the sanitized binaries      integration/
#   3. the unit tests again under valgrind, on a plain build          build/
#   4. a short libFuzzer run of every target in tests/fuzz            build-fuzz/
# Set MCPBOX_FUZZ_SECONDS (default 20) to fuzz longer or 0 to skip fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --test
jobs=$(nproc)
failed=()

step() { echo; echo "=== $*"; }

step "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMCPBOX_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" 2>&1 | grep -E "error|warning" || true
cmake --build build-asan -j"$jobs" >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

step "unit tests (ctest, sanitized)"
ctest --test-dir build-asan --output-on-failure -j2 || failed+=("unit")

step "integration tests (pytest)"
MCPBOX_BUILD_DIR="$PWD/build-asan" /usr/bin/python3 -m pytest -q integration || failed+=("integration")

step "unit tests under valgrind (plain build)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
vg_failed=0
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  if ! MCPBOX_SLOW_TESTS=1 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$t" >/tmp/vg.$$.log 2>&1; then
    echo "valgrind: $t failed"; tail -40 /tmp/vg.$$.log; vg_failed=1
  else
    echo "valgrind: $t clean"
  fi
done
rm -f /tmp/vg.$$.log
[ $vg_failed -eq 0 ] || failed+=("valgrind")

fuzz_seconds="${MCPBOX_FUZZ_SECONDS:-20}"
if [ "$fuzz_seconds" != "0" ]; then
  step "fuzzing (${fuzz_seconds}s per target)"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMCPBOX_SANITIZE=ON -DMCPBOX_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$jobs" --target $(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//') >/dev/null
  for target in build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$target")
    corpus="tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    if "$target" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$work" "$corpus" >"$work.log" 2>&1; then
      echo "fuzz: $name ok ($(grep -o 'Done [0-9]* runs' "$work.log"))"
    else
      echo "fuzz: $name FAILED"; tail -30 "$work.log"; failed+=("fuzz:$name")
    fi
    rm -rf "$work" "$work.log"
  done
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all tests passed"
