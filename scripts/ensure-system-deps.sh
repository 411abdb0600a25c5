#!/usr/bin/env bash
# Installs the real peers the end-to-end suites run against (Prometheus, promtool, Alertmanager,
# headless Chromium, poppler's PDF tools) and the peer `npm run bench` compares the agent with
# (blackbox_exporter) from Debian's packages, unless they are already there. Nothing is downloaded
# at test run time beyond these packages.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# pdftotext/pdfinfo/pdftoppm read the PDF reports back in the tests.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# Not used by the tests: `npm run bench` runs it beside the agent (bench/peers/blackbox.ts).
command -v prometheus-blackbox-exporter >/dev/null 2>&1 || need+=(prometheus-blackbox-exporter)

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (install them with: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the services it installs; the tests start their own on free ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter; do
  (systemctl stop "$svc" || service "$svc" stop || true) >/dev/null 2>&1
done
