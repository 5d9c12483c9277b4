#!/usr/bin/env bash
# What the test suite needs beyond Node, npm and Go, from Debian's packages: chromium (the
# dashboard's browser test, driven by playwright-core) and prometheus (promtool, and a real server
# that scrapes /metrics). Installs them when missing (as root, or through sudo); the tests then
# require them (IPFS_KIT_REQUIRE_TOOLS=1 in .ci/run) instead of skipping.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: chromium and prometheus are installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "test-deps: need root (or sudo) to install ${missing[*]} with apt-get" >&2
    exit 1
  fi
fi
echo "test-deps: installing ${missing[*]} from Debian's packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
