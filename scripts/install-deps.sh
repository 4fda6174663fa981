#!/usr/bin/env bash
# Installs what barfill needs to build (and, with --test, to run its tests) from Debian 12's
# packages. Idempotent: only missing packages are installed. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates curl
  libcurl4-openssl-dev libsimdjson-dev libpq-dev libsqlite3-dev libcli11-dev
  libtomlplusplus-dev libhowardhinnant-date-dev tzdata zlib1g-dev
  libquantlib0-dev libgtest-dev libgmock-dev libbenchmark-dev
  libpugixml-dev libssl-dev
)
if [[ ${1:-} == --test ]]; then
  # PostgreSQL for the pg tests; sqlite3 and postgresql-client for checks from the shell;
  # chromium loads the coverage page (barfill status --html) headless in its browser test.
  packages+=(postgresql-15 postgresql-client-15 sqlite3 procps iproute2 python3 chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "error: missing packages (${missing[*]}) and not root: run as root" >&2; exit 2; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
