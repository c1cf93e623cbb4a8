#!/usr/bin/env bash
# Runs the registry locally the way a newcomer wants it: installs Node.js 24 if needed,
# installs npm packages, builds the bundle, serves on port 5000 (storage in ./.perch-data)
# and pushes the four Roost test charts. Ctrl-C stops it.
#   PERCH_PORT=5001 bash scripts/start.sh     another port
#   bash scripts/start.sh path/to/config.json a zot config of your own (seeded at its port)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh node
source scripts/env.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run build --silent

port="${PERCH_PORT:-5000}"
if [ $# -gt 0 ]; then
  config="$1"
else
  mkdir -p .perch-data
  config=.perch-data/config.json
  cat > "$config" <<JSON
{
  "distSpecVersion": "1.1.1",
  "http": { "address": "0.0.0.0", "port": "$port" },
  "storage": { "rootDirectory": "$PWD/.perch-data/storage" },
  "log": { "level": "info" }
}
JSON
fi

node registry-image/dist/perch.js serve "$config" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM
# Wait until this server answers; if it died (port taken, bad config), say so and stop.
for _ in $(seq 1 100); do
  kill -0 $server 2>/dev/null || { echo "perch serve exited: see its message above (is port $port taken? try PERCH_PORT=5001)" >&2; exit 1; }
  curl -sf "http://localhost:$port/startupz" >/dev/null 2>&1 && break
  sleep 0.1
done
node registry-image/dist/perch.js seed --registry "http://localhost:$port" --timeout 30s
echo
echo "perch is serving on http://localhost:$port with the Roost test charts. Try:"
echo "  curl http://localhost:$port/v2/_catalog"
echo "  helm pull oci://localhost:$port/roost-test/nginx-test --version 1.0.0 --plain-http"
echo "Ctrl-C stops it."
wait $server
