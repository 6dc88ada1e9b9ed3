#!/usr/bin/env bash
# vendor-web.sh — the dashboard's libraries, from npm into web/vendor/.
#
# The dashboard runs with no build step: web/vendor/ is committed, so a
# checkout (or a package) serves it as it is, offline. This script is how
# those files are made, from the versions pinned in web/package-lock.json:
#
#   scripts/vendor-web.sh           npm ci (in a temporary directory: no
#                                   node_modules under web/, which the gateway
#                                   serves) and copy into web/vendor/
#   scripts/vendor-web.sh --check   the same into a temporary directory, and
#                                   fail when web/vendor/ differs (CI runs it)
#
# What is copied, each with its license:
#   diff (jsdiff)          libesm/**/*.js         -> vendor/diff/          (ES modules)
#   @speed-highlight/core  dist/tokenize.js, dist/languages/{py,todo}.js
#                                                 -> vendor/speed-highlight/
#   uplot                  dist/uPlot.iife.min.js + "export default uPlot;"
#                                                 -> vendor/uplot/uPlot.min.js
#                          dist/uPlot.min.css     -> vendor/uplot/uPlot.min.css
# (uPlot ships its ES module only unminified, 145 KB; its minified build is a
# script that declares `var uPlot`; one appended export line makes it a
# module of 51 KB.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=0
[ "${1:-}" = "--check" ] && check=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/web/package.json" "$root/web/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
nm="$work/node_modules"
out="$work/vendor"

mkdir -p "$out/diff" "$out/speed-highlight/languages" "$out/uplot"
(cd "$nm/diff/libesm" && find . -name '*.js' -print0 | sort -z \
   | xargs -0 -I{} install -D -m 0644 {} "$out/diff/{}")
cp "$nm/diff/LICENSE" "$out/diff/LICENSE"
cp "$nm/@speed-highlight/core/dist/tokenize.js" "$out/speed-highlight/tokenize.js"
cp "$nm/@speed-highlight/core/dist/languages/py.js" \
   "$nm/@speed-highlight/core/dist/languages/todo.js" "$out/speed-highlight/languages/"
cp "$nm/@speed-highlight/core/LICENSE" "$out/speed-highlight/LICENSE"
{ cat "$nm/uplot/dist/uPlot.iife.min.js"; printf '\nexport default uPlot;\n'; } \
  > "$out/uplot/uPlot.min.js"
cp "$nm/uplot/dist/uPlot.min.css" "$out/uplot/uPlot.min.css"
cp "$nm/uplot/LICENSE" "$out/uplot/LICENSE"
chmod -R u=rwX,go=rX "$out"

if [ "$check" = 1 ]; then
  if ! diff -r "$out" "$root/web/vendor" >/dev/null; then
    diff -rq "$out" "$root/web/vendor" || true
    echo "web/vendor/ differs from web/package-lock.json: run scripts/vendor-web.sh" >&2
    exit 1
  fi
  echo "web/vendor/ matches web/package-lock.json"
else
  rm -rf "$root/web/vendor"
  cp -r "$out" "$root/web/vendor"
  echo "web/vendor/ written from web/package-lock.json"
fi
