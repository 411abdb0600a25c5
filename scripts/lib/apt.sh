# shellcheck shell=bash
# apt-get as the project's scripts run it (sourced by ensure-system-deps.sh and ci-image.sh):
# waits for the package locks instead of failing when another apt-get or dpkg (a parallel CI
# step, unattended-upgrades) holds them, and refreshes the package lists once when an install
# fails, since stale lists name package versions the mirror no longer has.
#
# APT_LOCK_WAIT: how long to wait for the locks, in seconds (default 600).

APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" "$@"
}

# `apt-get update` waiting for the lists lock: apt (2.6) applies DPkg::Lock::Timeout to dpkg's
# locks only, and `update` fails at once with "Could not get lock /var/lib/apt/lists/lock".
apt_update() {
  local deadline=$(( $(date +%s) + APT_LOCK_WAIT )) out
  while :; do
    if out=$(apt_get update -qq 2>&1); then return 0; fi
    if ! grep -q 'Could not get lock' <<<"$out" || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$out" >&2
      return 1
    fi
    sleep 2
  done
}

# Installs the packages, without recommends; on failure refreshes the lists once and tries again.
apt_install() {
  apt_update || return 1
  apt_get install -y -qq --no-install-recommends "$@" && return 0
  echo "apt-get install $* failed; refreshing the package lists once and retrying" >&2
  apt_update && apt_get install -y -qq --no-install-recommends "$@"
}
