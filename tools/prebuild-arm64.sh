#!/usr/bin/env bash
# Cross-compiles the linux-arm64 (glibc) prebuild of every native package on an x86-64 Debian machine:
# Debian's g++-aarch64-linux-gnu, node-gyp pointed at the local (arch-independent) Node headers.
# Usage: tools/prebuild-arm64.sh [package ...]   (default: every package with a binding.gyp)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "needs g++-aarch64-linux-gnu (apt)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
fi
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then for d in packages/*/binding.gyp; do pkgs+=("$(basename "$(dirname "$d")")"); done; fi
for p in "${pkgs[@]}"; do
  echo "== @x/$p linux-arm64"
  (cd "packages/$p" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
    PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip npx prebuildify --napi --strip --tag-libc --arch arm64 --platform linux)
  file "packages/$p/prebuilds/linux-arm64/"*.node
done
# prebuildify cross-built in build/: put the local (host) build back
for p in "${pkgs[@]}"; do (cd "packages/$p" && npx node-gyp rebuild -j max >/dev/null); done
