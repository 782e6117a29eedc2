#!/usr/bin/env bash
# Installs PgBouncer (Debian's package) for the connection-pooler tests when /usr/sbin/pgbouncer is missing.
# The tests start their own pgbouncer on a free port; the system service the package may start is stopped again.
set -euo pipefail

if [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-pgbouncer: no apt-get here; install PgBouncer by hand (the pooler tests are skipped without it)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

echo "installing pgbouncer (apt-get) for the connection-pooler tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# quiet unless it fails: then apt's own output says why
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
  --no-install-recommends pgbouncer; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-pgbouncer: apt-get could not install pgbouncer" >&2
  exit 1
fi

# Where services start on install (no policy-rc.d denying it), Debian's package starts one on port 6432. Nothing
# here uses it, so it is stopped rather than left holding a port and a pool on the server.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl stop pgbouncer >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1; then
  $sudo service pgbouncer stop >/dev/null 2>&1 || true
fi
/usr/sbin/pgbouncer --version | head -n 1
