#!/usr/bin/env bash
# The tests: what they use besides Rust (scripts/test-deps.sh), then the whole suite on an
# SQLite journal, then the integration tests again on PostgreSQL (each test world gets a
# database of its own on a private server), and the private server stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
cargo test
FLSPOST_TEST_STORE=postgres cargo test --test all
bash scripts/pg-test-server.sh stop
