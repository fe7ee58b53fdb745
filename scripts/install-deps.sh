#!/usr/bin/env bash
# Installs coldlab's build, test and client dependencies from Debian 12's packages.
# Idempotent: when every package is already installed it only checks and returns (well under a second).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-filesystem-dev
  libcpp-httplib-dev libssl-dev
  libcgroup-dev cgroup-tools
  libsqlite3-dev sqlite3
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  catch2
  python3 python3-numpy python3-matplotlib
  python3-torch  # kdd-python-torch: the study's function with a real ML framework (large: see README)
  libzip-dev
  default-jdk-headless
  weka  # kdd-java-weka: Weka 3.6 (its weka.jar), the Java variant that loads an ML library at Init
  awscli python3-boto3
  procps
  parallel  # GNU parallel: runs `coldlab simulate --sweep --plan` points (tested)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them with apt-get" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
