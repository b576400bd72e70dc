#!/usr/bin/env bash
# Installs what edgehub needs on Debian/Ubuntu: npm dependencies and Debian packages.
# As root it installs missing packages with apt-get; otherwise it prints the exact command and stops.
# usage: scripts/install-deps.sh [--test|--bench]   (what the test suite / the benchmarks need too)
set -euo pipefail
# Redis Sentinel's package too when the configuration names sentinels (read before leaving the caller's directory)
config=${EDGEHUB_CONFIG:-edgehub.yaml}
sentinel=no
if [[ -n ${EDGEHUB_REDIS_SENTINEL_HOSTS:-} ]] || { [[ -f $config ]] && grep -Eq '^[[:space:]]*sentinel:' "$config"; }; then sentinel=yes; fi
cd "$(dirname "$0")/.."

packages=(redis-server nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-cjson jupyter-notebook python3-ipykernel)
case "${1:-}" in
  # systemd: systemd-analyze verify of deploy/systemd; procps: /bin/kill, the proxy unit's ExecReload=
  # docker.io: the docker spawner's tests start their own dockerd (test/support/docker.ts)
  # golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev: the Helm chart's renderer (deploy/helm/render);
  # docker-compose: `docker-compose config` of deploy/compose (test/e2e/deploy)
  # jupyterhub, sqlite3: the import test makes a JupyterHub database with the one and edgehub reads it with the other
  # slapd: the LDAP authenticator's tests start their own (never the package's default server: see below);
  # krb5-*: the Kerberos tests' own KDC and kinit; libkrb5-dev: the kerberos module is built against it
  # slurm-wlm, munge: the slurm spawner's tests start their own single-node cluster (test/support/slurm.ts)
  # sudo: the sudo spawner's tests run its mediator through a sudoers rule of their own (test/support/sudo.ts)
  --test) packages+=(chromium lua-busted lua-check haproxy jupyterhub sqlite3 wrk busybox systemd procps docker.io slapd
    golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev docker-compose
    libkrb5-dev krb5-kdc krb5-admin-server krb5-user slurm-wlm munge sudo) ;;
  --bench) packages+=(wrk busybox valgrind docker.io) ;; # docker.io: the containers scenario's own dockerd
esac
if [[ $sentinel == yes ]]; then packages+=(redis-sentinel); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "edgehub: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # slapd's package would otherwise configure and start a directory server on every address
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "edgehub: these Debian packages are missing: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "edgehub: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
