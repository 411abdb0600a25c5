#!/usr/bin/env bash
# Installs the real peers the end-to-end suites run against (Prometheus, promtool, Alertmanager,
# headless Chromium, poppler's PDF tools, an SMTP server) and the peer `npm run bench` compares the agent with
# (blackbox_exporter) from Debian's packages, unless they are already there. Nothing is downloaded
# at test run time beyond these packages.
#
#   scripts/ensure-system-deps.sh [tests] [image]
#
# tests (the default): the packages above. image: buildah and debootstrap, for the container image
# step (scripts/image/ci-image.sh); .ci/run installs these first, so that the image step, the
# longest part of CI on a fresh machine, can start while the rest installs.
# SYSTEM_DEPS="COMMAND=PACKAGE ...": check and install these instead of the list below (for
# scripts/ci/apt-lock-check.sh, which installs a small package while the apt locks are held).
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"

test_deps=(
  prometheus=prometheus
  promtool=prometheus
  prometheus-alertmanager=prometheus-alertmanager
  chromium=chromium
  # pdftotext/pdfinfo/pdftoppm read the PDF reports back in the tests.
  pdftotext=poppler-utils
  # A real SMTP server with STARTTLS for the email receiver's tests (test/support/smtp-server.py).
  aiosmtpd=python3-aiosmtpd
  # Not used by the tests: `npm run bench` runs it beside the agent (bench/peers/blackbox.ts).
  prometheus-blackbox-exporter=prometheus-blackbox-exporter
)
image_deps=(buildah=buildah debootstrap=debootstrap)
deps=()
for set in "${@:-tests}"; do
  case "$set" in
    tests) deps+=("${test_deps[@]}") ;;
    image) deps+=("${image_deps[@]}") ;;
    *) echo "usage: ensure-system-deps.sh [tests] [image]" >&2; exit 2 ;;
  esac
done
if [ -n "${SYSTEM_DEPS:-}" ]; then read -r -a deps <<<"$SYSTEM_DEPS"; fi

need=()
for dep in "${deps[@]}"; do
  command -v "${dep%%=*}" >/dev/null 2>&1 || need+=("${dep#*=}")
done

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (install them with: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
apt_install "${need[@]}" >/dev/null
# Debian starts the services it installs; the tests start their own on free ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter; do
  (systemctl stop "$svc" || service "$svc" stop || true) >/dev/null 2>&1
done
