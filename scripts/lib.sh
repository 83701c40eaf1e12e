# Shared helpers for shoal's scripts. Source it; it sets the repo root and Go.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || { echo "shoal needs Go 1.26+ on PATH (see README)" >&2; exit 1; }

build_shoal() {
  (cd "$ROOT" && go build -o bin/shoal ./cmd/shoal)
}
