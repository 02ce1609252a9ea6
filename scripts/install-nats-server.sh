#!/usr/bin/env bash
# Installs nats-server >= 2.12 from Debian's packages when it is missing or older.
#
# guichet needs 2.12 or later: atomic batch publish (ADR-50, stream setting `allow_atomic`)
# is how a decision of several events, and group commit, are stored all or nothing.
# Debian 12 ships 2.9.10 and Debian 13 2.10.27; Debian testing ("forky") ships 2.15.x, and
# its package installs alone on Debian 12 and 13 (the binary needs only libc >= 2.34). So on
# Debian we add the forky suite pinned low (priority 100): only nats-server is taken from
# it, nothing else upgrades. Elsewhere: the official release binaries or the `nats` image.
set -euo pipefail

want_major=2 want_minor=12

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
  2.1[2-9].*|2.[2-9][0-9].*|[3-9].*)
    $sudo apt-get install -y -qq nats-server ;;
  *)
    . /etc/os-release
    if [ "${ID:-}" = debian ]; then
      echo "Debian ${VERSION_ID:-?} ships nats-server ${candidate:-(none)}; taking it from forky (testing), pinned low."
      # Same mirror as the existing entries (one-line or deb822 format).
      mirror=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
        | grep -E '^[[:space:]]*(deb|URIs:)' | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n 1 || true)
      mirror=${mirror:-http://deb.debian.org/debian}
      # An earlier version of this script pinned trixie for 2.10; forky supersedes it.
      $sudo rm -f /etc/apt/sources.list.d/guichet-trixie.list /etc/apt/preferences.d/guichet-trixie
      echo "deb ${mirror%/} forky main" | $sudo tee /etc/apt/sources.list.d/guichet-forky.list >/dev/null
      printf 'Package: *\nPin: release n=forky\nPin-Priority: 100\n' | $sudo tee /etc/apt/preferences.d/guichet-forky >/dev/null
      # forky's package declares its system user with the `u!` modifier of newer systemd;
      # Debian 12's systemd-sysusers rejects it and the package's set-up fails. A file of the
      # same name under /etc/sysusers.d takes precedence and declares the same user plainly.
      if [ ! -e /etc/sysusers.d/nats-server.conf ]; then
        $sudo mkdir -p /etc/sysusers.d
        echo 'u nats - "NATS.io server" /nonexistent /usr/sbin/nologin' | $sudo tee /etc/sysusers.d/nats-server.conf >/dev/null
      fi
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq -t forky nats-server
    else
      echo "nats-server ${candidate:-(none)} is older than 2.12; install 2.12+ from your OS or the NATS release binaries." >&2
      exit 1
    fi ;;
esac
# The package enables a system-wide nats-server on port 4222, where `guichet server` starts
# its own: stop it unless it was already running before this script.
if [ -d /run/systemd/system ] && [ -z "${GUICHET_KEEP_NATS_SERVICE:-}" ] && systemctl is-enabled --quiet nats-server 2>/dev/null; then
  echo "Disabling the packaged nats-server service (port 4222 is for guichet's embedded server; set GUICHET_KEEP_NATS_SERVICE=1 to keep it)."
  $sudo systemctl disable --now nats-server >/dev/null 2>&1 || true
fi
have_version || { echo "nats-server >= 2.12 could not be installed (found: $(nats-server --version 2>&1 || echo none))" >&2; exit 1; }
echo "nats-server: $(nats-server --version)"
