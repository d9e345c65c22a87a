#!/usr/bin/env bash
# Builds the Containerfile's runtime root filesystem without a container
# engine or registry: Debian 12 minbase from Debian's own packages
# (debootstrap, from the mirror apt uses), plus runtime-packages.txt, the
# ccguard user (uid 10001) and the given ccguard binary.
#   deploy/container/build-rootfs.sh OUT_DIR [CCGUARD_BINARY]
# Needs root (debootstrap). Then, for instance:
#   chroot --userspec=10001:10001 OUT_DIR /usr/local/bin/ccguard --version
#   tar -C OUT_DIR -c . | podman import - ccguard:rootfs     (an image from it)
# A binary built with the CUDA backend also needs the CUDA libraries it
# links (its RUNPATH, /usr/local/cuda/lib): bind-mount them at that path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out=${1:?usage: build-rootfs.sh OUT_DIR [CCGUARD_BINARY]}
bin=${2:-$here/../../build/release/ccguard}
[ "$(id -u)" -eq 0 ] || { echo "build-rootfs.sh: debootstrap needs root" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "build-rootfs.sh: install debootstrap" >&2; exit 2; }
[ -x "$bin" ] || { echo "build-rootfs.sh: no ccguard binary at $bin" >&2; exit 2; }
# The mirror apt uses on this machine (deb822 or one-line sources), else Debian's.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
         | grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
                             /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
pkgs=$(grep -v '^#' "$here/runtime-packages.txt" | paste -sd, -)
mkdir -p "$out"
debootstrap --variant=minbase --include="$pkgs" bookworm "$out" "$mirror"
chroot "$out" groupadd --gid 10001 ccguard
chroot "$out" useradd --uid 10001 --gid 10001 --home-dir /home/ccguard --create-home ccguard
install -d -o 10001 -g 10001 "$out/cache"
install -D -m 0755 "$bin" "$out/usr/local/bin/ccguard"
rm -rf "$out/var/cache/apt/archives/"*.deb "$out/var/lib/apt/lists/"*
echo "build-rootfs.sh: $out ($(du -sh "$out" | cut -f1))"
