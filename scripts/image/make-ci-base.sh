#!/usr/bin/env bash
# Makes a local stand-in for the official node:<LTS>-bookworm-slim image where no registry can be
# reached: a Debian bookworm minbase root (debootstrap, from the mirror apt already uses) with the
# build machine's own Node.js runtime, npm and headers under /usr/local and a `node` user (uid
# 1000), laid out as the official image is. The result is passed to the Dockerfile as NODE_IMAGE.
#
#   scripts/image/make-ci-base.sh IMAGE_NAME
#
# Needs root, buildah and debootstrap. Takes a few minutes (debootstrap downloads ~90 packages).
set -euo pipefail

image=${1:?usage: make-ci-base.sh IMAGE_NAME}
bh() { buildah --storage-driver vfs "$@"; }

# The mirror apt uses on this machine (deb822 or one-line sources), else Debian's CDN.
mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | grep -v security | head -n 1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}

node_bin=$(readlink -f "$(command -v node)")
node_prefix=$(dirname "$(dirname "$node_bin")")
[ -d "$node_prefix/lib/node_modules/npm" ] || { echo "no npm beside $node_bin" >&2; exit 1; }
[ -f "$node_prefix/include/node/node_api.h" ] || { echo "no Node headers in $node_prefix/include/node" >&2; exit 1; }

ctr=$(bh from scratch)
trap 'bh umount "$ctr" >/dev/null 2>&1 || true; bh rm "$ctr" >/dev/null 2>&1 || true' EXIT
root=$(bh mount "$ctr")

debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null

mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include"
cp -a "$node_bin" "$root/usr/local/bin/node"
cp -a "$node_prefix/lib/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
cp -a "$node_prefix/include/node" "$root/usr/local/include/node"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# The shared libraries node links against must all be in the root already.
while read -r lib; do
  [ -e "$root$lib" ] || { echo "base lacks $lib that node needs" >&2; exit 1; }
done < <(ldd "$node_bin" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u)

echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

bh umount "$ctr" >/dev/null
bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$(node -p process.versions.node)" --cmd node \
  --label org.opencontainers.image.description="local stand-in for node:$(node -p 'process.versions.node.split(".")[0]')-bookworm-slim" \
  "$ctr"
bh commit --quiet "$ctr" "$image" >/dev/null
