#!/usr/bin/env bash
# Builds ccguard with the CUDA backend here (where nvcc and cuBLAS are) and
# packs what scripts/gpu-check.sh runs on a GPU machine into one folder
# (default .gpu-bundle/, ignored by git):
#   bin/ccguard, bin/cuda_backend_test, bin/decoder_model_cuda_test
#   lib/   the non-CUDA shared libraries they need (RPATH $ORIGIN/../lib)
#   MANIFEST  what was packed, from which commit
# The CUDA runtime is linked statically; cuBLAS/cuBLASLt and the driver are
# taken from the GPU machine (its CUDA 13 toolkit, or the libraries PyTorch
# ships). The folder must stay under 40 MiB (checked here and by
# tests/e2e/gpu_bundle_test.py) so that it travels with the working tree.
#   scripts/gpu-bundle.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.gpu-bundle}
build=${CCGUARD_BUNDLE_BUILD:-build/release}
limit=$((40 * 1024 * 1024))

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset release >/dev/null
fi
cmake "$build" >/dev/null
if ! grep -q '^CCGUARD_WITH_CUDA_BUILT:INTERNAL=ON' "$build/CMakeCache.txt"; then
  echo "gpu-bundle: $build was configured without CUDA (need nvcc and cuBLAS, e.g. /usr/local/cuda)" >&2
  exit 1
fi
cmake --build "$build" -j"$(nproc)" --target ccguard cuda_backend_test decoder_model_cuda_test
command -v patchelf >/dev/null || {
  echo "gpu-bundle: patchelf is needed (apt-get install patchelf)" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
bins=("$build/ccguard" "$build/cuda_backend_test" "$build/decoder_model_cuda_test")
# Left to the GPU machine: the C runtime, the C++ runtime (a newer one there
# runs what g++ 12 built) and everything CUDA.
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libresolv\.|libpthread\.|libstdc\+\+|libgcc_s|libcuda\.|libcudart|libcublas|libnvidia)'
for b in "${bins[@]}"; do
  install -m 755 "$b" "$out/bin/"
  strip --strip-unneeded "$out/bin/$(basename "$b")"
  patchelf --set-rpath '$ORIGIN/../lib' "$out/bin/$(basename "$b")"
  ldd "$b" | awk '/=> \//{print $1, $3}' | while read -r name path; do
    if ! [[ $name =~ $skip ]] && [ ! -f "$out/lib/$name" ]; then
      cp -L "$path" "$out/lib/$name"
    fi
  done
done
for l in "$out"/lib/*; do
  chmod 644 "$l"
  patchelf --set-rpath '$ORIGIN' "$l"
done
{
  echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m) with $(/usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -1)"
  (cd "$out" && find bin lib -type f | sort)
} >"$out/MANIFEST"
size=$(du -sb "$out" | cut -f1)
echo "gpu-bundle: $out is $((size / 1024 / 1024)) MiB ($size bytes)"
if [ "$size" -gt "$limit" ]; then
  echo "gpu-bundle: $out is over the 40 MiB limit" >&2
  exit 1
fi
