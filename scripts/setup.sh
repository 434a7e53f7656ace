#!/usr/bin/env bash
# Installs the Debian packages Fulcrum builds and tests against, only when missing,
# plus any packages named as arguments (e.g. `scripts/setup.sh redis-server`).
# Idempotent: a second run installs nothing and never calls `apt-get update`.
set -euo pipefail

packages=(libglpk-dev glpk-utils liblmdb-dev libjemalloc-dev pkg-config python3 openssl "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
