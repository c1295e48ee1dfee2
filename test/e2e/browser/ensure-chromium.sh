#!/usr/bin/env bash
# The hosted-login browser test drives the system's Chromium (a test tool's own browser
# download is not used). Installs Debian's package when it is missing and we may; otherwise
# says what to install. Runs before `npm test`.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed: the hosted-login browser test needs it (Debian: apt-get install chromium)." >&2
fi
