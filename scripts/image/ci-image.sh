#!/usr/bin/env bash
# The CI step for the container image: lints the Dockerfile, builds it with buildah (no Docker
# engine needed: vfs storage, chroot isolation), checks the image's configuration, then runs it:
# `check-config` on the shipped profile and `demo` on a free loopback port, /healthz and /metrics
# fetched from the host, the image's own HEALTHCHECK command run inside, SIGTERM, and `verify` of
# the evidence the demo wrote (it must have closed the store cleanly).
#
# There is no registry here, so the base is a local stand-in for node:<LTS>-bookworm-slim, made
# once by make-ci-base.sh and kept in buildah's storage.
#
# Exit 0: passed, or skipped with one "image: skipped: REASON" line where buildah cannot run.
# Exit 1: a real failure (the last lines say which check).
set -euo pipefail
cd "$(dirname "$0")/../.."

export BUILDAH_ISOLATION=chroot
bh() { buildah --storage-driver vfs "$@"; }
skip() { echo "image: skipped: $*"; exit 0; }
fail() { echo "image: FAILED: $*" >&2; exit 1; }
step() { echo "image: $*"; }
now() { date +%s; }
t0=$(now)

# --- tools and rights (missing ones are a skip, not a failure)
[ "$(id -u)" -eq 0 ] || skip "needs root (vfs storage and chroot isolation); run as root or with sudo"
if ! command -v buildah >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || skip "buildah/debootstrap missing and no apt-get to install them"
  step "installing buildah and debootstrap"
  # .ci/run installs them before it starts this step (ensure-system-deps.sh --image-tools); this is
  # for a run of this script on its own. apt.sh waits for the apt locks rather than failing.
  (. scripts/lib/apt.sh && apt_install buildah debootstrap) >/dev/null 2>&1 \
    || skip "could not install buildah/debootstrap with apt-get"
fi
probe=$(bh from scratch 2>&1) || skip "buildah cannot create containers here: $(echo "$probe" | tail -n 1)"
mounted=$(bh mount "$probe" 2>&1) || { bh rm "$probe" >/dev/null 2>&1; skip "buildah cannot mount a container here: $(echo "$mounted" | tail -n 1)"; }
bh umount "$probe" >/dev/null && bh rm "$probe" >/dev/null

node_version=$(node -p process.versions.node)
base=localhost/slo-agent-ci-base:bookworm-node$node_version
version=$(node -p 'require("./package.json").version')
image=localhost/slo-agent:$version   # named by the release version, as docs/deployment.md builds it
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)

# --- lint (dockerfile-utils: the Dockerfile linter of the VS Code Docker language server, from npm)
step "lint Dockerfile"
npm exec --yes --package=dockerfile-utils@0.16.3 -- dockerfile-utils lint Dockerfile || fail "dockerfile-utils lint Dockerfile"

# --- base
t_base=$(now)
if bh inspect --type image "$base" >/dev/null 2>&1; then
  step "base $base (cached)"
else
  step "making base $base (debootstrap bookworm minbase + this machine's Node $node_version)"
  bash scripts/image/make-ci-base.sh "$base" || fail "make-ci-base.sh"
fi
base_s=$(( $(now) - t_base ))

# --- build
t_build=$(now)
step "build $image"
bh rmi "$image" >/dev/null 2>&1 || true   # the previous run's image: vfs keeps every copy in full
# This machine's extra CA (a TLS-intercepting proxy in front of the npm registry), if any, for the
# build stage's npm only. No --layers: with vfs every layer is a full copy of the root filesystem.
ca_args=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_args=(--volume "$NODE_EXTRA_CA_CERTS:/tmp/build-extra-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/tmp/build-extra-ca.crt)
fi
bh build --isolation chroot --pull=never --format docker "${ca_args[@]}" \
  --build-arg NODE_IMAGE="$base" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t "$image" -f Dockerfile . || fail "buildah build"
build_s=$(( $(now) - t_build ))

t_run=$(now)
workdir=$(mktemp -d)
bh inspect --type image "$image" >"$workdir/image.json"
node scripts/image/check-image-config.mjs "$workdir/image.json" "$version" || fail "image configuration"

# --- run it
ctr=$(bh from --pull=never "$image")
demo_pid=
# buildah run forwards no signal to the container: like `docker stop`, signal the container's own
# process, which chroot isolation leaves in the host's PID namespace (found under buildah run).
container_node_pid() {
  local queue=("$1") pid child
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    if [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = node ]; then echo "$pid"; return 0; fi
    for child in $(pgrep -P "$pid" || true); do queue+=("$child"); done
  done
  return 1
}
cleanup() {
  if [ -n "$demo_pid" ]; then
    node_pid=$(container_node_pid "$demo_pid") && kill -KILL "$node_pid" 2>/dev/null
    kill "$demo_pid" 2>/dev/null
  fi
  true
  bh rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT
as_agent() { bh run --user 1000:1000 "$ctr" -- "$@"; }

step "run: production dependencies only, no compiler"
as_agent sh -c '! command -v g++ && ! command -v make && test ! -e /app/node_modules/typescript && test ! -e /app/node_modules/vitest && test -e /app/node_modules/better-sqlite3/build/Release/better_sqlite3.node' \
  || fail "the runtime stage holds build tools or dev dependencies"

step "run: check-config on the image's default configuration"
as_agent node /app/dist/cli/main.js check-config --config /etc/slo-agent/slo.yaml || fail "check-config in the image"

step "run: demo"
as_agent node /app/dist/cli/main.js demo --listen 127.0.0.1:0 --data-dir /data --every 1s \
  >"$workdir/demo.out" 2>"$workdir/demo.err" &
demo_pid=$!
node scripts/image/probe-demo.mjs "$workdir/demo.out" "$workdir/image.json" "$ctr" || { cat "$workdir/demo.err" >&2; fail "demo in the image"; }

step "run: SIGTERM stops the demo cleanly"
node_pid=$(container_node_pid "$demo_pid") || fail "no node process under buildah run"
kill -TERM "$node_pid"
( sleep 60; kill -KILL "$node_pid" 2>/dev/null ) &
watchdog=$!
demo_status=0
wait "$demo_pid" || demo_status=$?
demo_pid=
kill "$watchdog" 2>/dev/null || true
cat "$workdir/demo.err"
[ "$demo_status" -eq 0 ] || fail "demo exited $demo_status after SIGTERM"
grep -q "\"signal\":\"SIGTERM\",\"msg\":\"stopping\"" "$workdir/demo.err" || fail "demo did not log its SIGTERM shutdown"
as_agent node /app/dist/cli/main.js verify --data-dir /data || fail "verify of the demo's evidence"
run_s=$(( $(now) - t_run ))

echo "image: ok in $(( $(now) - t0 ))s (base ${base_s}s, build ${build_s}s, run ${run_s}s)"
