#!/usr/bin/env bash
# Schemathesis (pinned) over every operation of /openapi.json, all checks,
# against the real `kycd serve` on SQLite in a temporary data dir and a free
# port, with the default organization's sandbox key (so the sandbox test-helper
# routes are exercised too). Any failure fails the script.
#   ST_MAX_EXAMPLES  examples per operation and phase (default 50: about
#                    6,000 requests in 1.5 minutes here)
#   ST_SEED          a seed to reproduce a run (default: random)
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
installed=$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
if [ "$installed" != "$ST_VERSION" ]; then
  python3 -m pip install -q "schemathesis==$ST_VERSION"
fi

target=${CARGO_TARGET_DIR:-target}
# The binary the test build made (`cargo test --workspace` builds it for the
# process tests): `cargo build -p kycd` alone would unify other dependency
# features and rebuild most of them (about 20 minutes on 2 cores).
cargo test -q --workspace --no-run
bin="$target/debug/kycd"

data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
pid=
sink_pid=
cleanup() {
  for p in $pid $sink_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$data"
}
trap cleanup EXIT

# A webhook receiver that accepts every delivery (the hooks point the
# endpoints schemathesis creates at it): deliveries then succeed at once
# instead of retrying, or waiting on hosts that cannot be reached from here.
sink_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
class Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # kycd closing a kept-alive connection is not news
Quiet(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
' "$sink_port" &
sink_pid=$!

# SQLite in the temp dir whatever the environment says; rate limits out of the
# way; webhook URLs not resolved (no outside DNS here): --webhook-allow-private.
env -u KYCD_DATABASE_URL KYCD_RATE_LIMIT=100000 KYCD_ADDRESS_RATE_LIMIT=0 RUST_LOG=warn \
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --webhook-allow-private >"$data/server.out" 2>"$data/server.err" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.err" >&2; echo "kycd serve exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null
key=$(sed -n 's/^Sandbox API key[^:]*: *\(sk_test_[A-Za-z0-9_]*\).*$/\1/p' "$data/server.out" | head -n 1)
[ -n "$key" ] || { echo "no sandbox key in the first start's output" >&2; cat "$data/server.out" >&2; exit 1; }

seed=()
[ -n "${ST_SEED:-}" ] && seed=(--seed "$ST_SEED")
started=$(date +%s)
status=0
# Run from the temp dir: Hypothesis' example database lands there, not in the tree.
ci_dir="$PWD/.ci"
(cd "$data" && KYCD_WEBHOOK_SINK="http://127.0.0.1:$sink_port" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ci_dir${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -m schemathesis.cli --config-file "$ci_dir/schemathesis.toml" run "$base/openapi.json" \
    --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-50}" \
    --header "Authorization: Bearer $key" \
    --workers 2 \
    --request-timeout 30 \
    --generation-database none \
    --no-color \
    "${seed[@]}" "$@") || status=$?
echo "schemathesis: exit $status after $(( $(date +%s) - started )) s"
if [ "$status" != 0 ]; then
  echo "--- kycd stderr (last 50 lines)" >&2
  tail -n 50 "$data/server.err" >&2
fi
exit "$status"
