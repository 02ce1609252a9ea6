#!/usr/bin/env bash
# Installs nats-server >= 2.10 from Debian's packages when it is missing or older.
#
# Debian 13 / Ubuntu 24.04 ship 2.10.x. Debian 12 ships 2.9.10, which lacks
# `sync_interval` (see docs/operations.md); there we add the trixie suite pinned low
# (priority 100), so that only nats-server is taken from it and nothing else upgrades.
set -euo pipefail

want_major=2 want_minor=10

have_version() {
  command -v nats-server >/dev/null 2>&1 || return 1
  local v
  v=$(nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
  [ -n "$v" ] || return 1
  local major=${v%%.*} minor=${v#*.}
  [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }
}

if have_version; then
  echo "nats-server: $(nats-server --version) (ok)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
candidate=$(apt-cache policy nats-server | sed -n 's/^ *Candidate: *//p')
case "$candidate" in
  2.1[0-9].*|2.[2-9][0-9].*|[3-9].*)
    $sudo apt-get install -y -qq nats-server ;;
  *)
    . /etc/os-release
    if [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
      echo "Debian 12 ships nats-server ${candidate:-?}; taking 2.10 from trixie, pinned low."
      # Same mirror as the existing entries (one-line or deb822 format).
      mirror=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
        | grep -E '^[[:space:]]*(deb|URIs:)' | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n 1 || true)
      mirror=${mirror:-http://deb.debian.org/debian}
      echo "deb ${mirror%/} trixie main" | $sudo tee /etc/apt/sources.list.d/guichet-trixie.list >/dev/null
      printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $sudo tee /etc/apt/preferences.d/guichet-trixie >/dev/null
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq -t trixie nats-server
    else
      echo "nats-server ${candidate:-(none)} is older than 2.10; install 2.10+ from your OS or nats.io." >&2
      exit 1
    fi ;;
esac
have_version || { echo "nats-server >= 2.10 could not be installed" >&2; exit 1; }
echo "nats-server: $(nats-server --version)"
