#!/usr/bin/env bash
# Installs the C libraries the Swift build links against (Debian packages), when they are missing.
set -euo pipefail
need=()
[[ -e /usr/include/x86_64-linux-gnu/cblas.h || -e /usr/include/cblas.h ]] || need+=(libopenblas-dev)
[[ -e /usr/include/sqlite3.h ]] || need+=(libsqlite3-dev)
if ((${#need[@]})); then
    echo "installing ${need[*]} ..." >&2
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
