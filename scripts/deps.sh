#!/usr/bin/env bash
# Install the Debian packages MCPbox needs to build, run and test.
# Idempotent and quick when everything is present: apt runs only for what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libzmq3-dev libczmq-dev libwebsockets-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  libmsgpack-dev libsodium-dev libseccomp-dev libpython3.11-dev libjansson-dev
)
TEST_PACKAGES=(
  libcmocka-dev python3-pytest python3-zmq python3-msgpack python3-websocket clang libclang-rt-14-dev valgrind
  chromium openssh-server systemd iproute2 prometheus
)

want=("${PACKAGES[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_PACKAGES[@]}")

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
