#!/usr/bin/env bash
# Shows that the project's installs wait for the package locks instead of failing: holds apt's and
# dpkg's locks for 20 s (as apt-get does: hold-apt-locks.py) while ensure-system-deps.sh must
# install a missing package (Debian's tiny `hello`), then checks that it ended installed and
# purges it again. `.ci/run` runs it beside its own installs; it is not a vitest suite because it
# needs root and changes the machine's packages, which `npm test` on a developer's machine must not.
#
# Exit 0 with "apt-lock: ok ..." or "apt-lock: skipped: REASON"; 1 with "apt-lock: FAILED: ...".
set -euo pipefail
cd "$(dirname "$0")/../.."

HOLD_S=${HOLD_S:-20}
skip() { echo "apt-lock: skipped: $*"; exit 0; }
fail() { echo "apt-lock: FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (it installs and purges Debian's hello package)"
command -v apt-get >/dev/null 2>&1 || skip "no apt-get"
command -v python3 >/dev/null 2>&1 || skip "no python3 to hold the locks"
# Someone's own hello is left alone: then this machine cannot show the install.
if command -v hello >/dev/null 2>&1 || dpkg -s hello >/dev/null 2>&1; then
  skip "the hello package is already installed"
fi

t0=$(date +%s)
holder_out=$(mktemp)
python3 scripts/ci/hold-apt-locks.py "$HOLD_S" >"$holder_out" &
holder=$!
trap 'kill "$holder" 2>/dev/null || true; rm -f "$holder_out"' EXIT
for _ in $(seq 1 1200); do
  grep -q held "$holder_out" && break
  kill -0 "$holder" 2>/dev/null || fail "the lock holder exited: $(cat "$holder_out")"
  sleep 0.5
done
grep -q held "$holder_out" || fail "the lock holder did not get the locks"
held_at=$(date +%s)

status=0
SYSTEM_DEPS="hello=hello" bash scripts/ensure-system-deps.sh || status=$?
done_at=$(date +%s)
wait "$holder" || true

command -v hello >/dev/null 2>&1 && installed=yes || installed=no
(. scripts/lib/apt.sh && apt_get purge -y -qq hello) >/dev/null 2>&1 || echo "apt-lock: could not purge hello again" >&2

[ "$status" -eq 0 ] || fail "ensure-system-deps.sh exited $status while the locks were held"
[ "$installed" = yes ] || fail "ensure-system-deps.sh exited 0 but hello is not installed"
waited=$(( done_at - held_at ))
[ "$waited" -ge "$HOLD_S" ] || fail "the install ended ${waited}s after the locks were taken, before the ${HOLD_S}s hold ended: did it wait at all?"
echo "apt-lock: ok in $(( $(date +%s) - t0 ))s: hello installed ${waited}s after the locks were taken for ${HOLD_S}s, then purged"
