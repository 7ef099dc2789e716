#!/usr/bin/env sh
# Cross-compiles the linux-riscv64 (glibc) prebuild of @x/cmio on an x86-64 Debian machine — the guest of a Cartesi
# Machine is riscv64 — with Debian's g++-riscv64-linux-gnu and node-gyp pointed at the local (arch-independent) Node
# headers; then rebuilds the host's own build/ (prebuildify cross-builds in build/).
set -eu
cd "$(dirname "$0")/.."
command -v riscv64-linux-gnu-g++ >/dev/null || { echo "needs g++-riscv64-linux-gnu (apt)" >&2; exit 1; }
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
CC=riscv64-linux-gnu-gcc CXX=riscv64-linux-gnu-g++ LINK=riscv64-linux-gnu-g++ \
  PREBUILD_STRIP_BIN=riscv64-linux-gnu-strip npx prebuildify --napi --strip --tag-libc --arch riscv64 --platform linux
file prebuilds/linux-riscv64/*.node 2>/dev/null || ls -l prebuilds/linux-riscv64
npx node-gyp rebuild -j max >/dev/null
