#!/bin/sh
# Writes the compose stack's three Redis passwords into ./secrets/ beside this file, once (an
# existing file is kept). The folder is the invoking user's alone; the files are readable by the
# containers' users (redis 999, edgehub 10001), which reach them only through their mounts.
set -eu
cd "$(dirname "$0")"
install -d -m 700 secrets
for name in redis_password hub_redis_password proxy_redis_password; do
  if [ ! -s "secrets/$name" ]; then
    (umask 022 && openssl rand -hex 32 > "secrets/$name")
  fi
done
echo "secrets in $(pwd)/secrets: $(ls secrets | tr '\n' ' ')"
