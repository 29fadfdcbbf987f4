#!/usr/bin/env bash
# Installs photo-tagger into ./.venv on a fresh Debian/Ubuntu machine.
#   bash packaging/install.sh          the application
#   bash packaging/install.sh --test   the application plus what the tests need
# System packages (Qt's runtime libraries; for the tests: WordNet for the tag-table build, Xvfb, exiftool as an
# independent XMP reader, desktop-file-utils and appstream to validate packaging/) are installed with apt-get
# when running as root; otherwise the script says which ones are missing and goes on.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

system_packages=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0)
if [ "${1:-}" = "--test" ]; then
  system_packages+=(wordnet-base xvfb libimage-exiftool-perl desktop-file-utils appstream)
fi
missing=()
for package in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "install.sh: please install these system packages: ${missing[*]}" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extras}"
echo "photo-tagger installed in $(pwd)/.venv: run .venv/bin/photo-tagger --help"
