#!/usr/bin/env bash
# Regenerates samples/output/ from samples/input/ with a fixed clock, so the checked-in
# messages are reproducible byte for byte (tests/samples.rs checks that they are current),
# and renders page 1 of the group 2a letter to samples/letter-2a.png for the README.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLSPOST_FAKE_NOW=2025-03-20T09:30:00Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
rm -rf samples/output
./target/release/flspost generate --journal "$tmp/journal.sqlite" --out-dir samples/output samples/input/*.json > /dev/null
rm -rf samples/output/.flspost-tmp
chmod -R u+rwX,go+rX samples/output   # flspost writes owner-only; these are fictitious samples for git
if command -v pdftoppm > /dev/null; then
  pdftoppm -r 60 -png -singlefile samples/output/FLS-AUH-2025-0002/patient-letter.pdf samples/letter-2a
fi
ls -R samples/output
