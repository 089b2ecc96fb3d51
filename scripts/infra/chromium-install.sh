#!/usr/bin/env bash
# Install (once) Debian's Chromium for the web map's browser tests (driven by Python Playwright through
# executable_path; `playwright install` downloads its own browser builds, which this project does not use).
# Idempotent and fast when already in place.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! dpkg -s chromium >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
  echo "chromium: installing chromium (and fonts) from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null
