#!/usr/bin/env bash
# Regenerates the checked-in samples with a fixed clock, so they are reproducible byte for
# byte (tests/samples.rs checks that they are current):
#   samples/output/      every samples/input/*.json, MeMo hand-off, normal print;
#   samples/kombi/       group 3 with the kombi hand-off (samples/kombi.toml);
#   samples/large-print/ samples/large-print.json (group 2a, patient.large_print);
# and renders page 1 of letters to PNG for the README (samples/letter-*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
export FLSPOST_FAKE_NOW=2025-03-20T09:30:00Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
rm -rf samples/output samples/kombi samples/large-print
./target/release/flspost generate --journal "$tmp/journal.sqlite" --out-dir samples/output samples/input/*.json > /dev/null
./target/release/flspost generate --journal "$tmp/kombi.sqlite" --config samples/kombi.toml --out-dir samples/kombi \
  samples/input/group-3.json > /dev/null
./target/release/flspost generate --journal "$tmp/large.sqlite" --out-dir samples/large-print samples/large-print.json > /dev/null
for d in samples/output samples/kombi samples/large-print; do
  rm -rf "$d/.flspost-tmp"
  chmod -R u+rwX,go+rX "$d"   # flspost writes owner-only; these are fictitious samples for git
done
if command -v pdftoppm > /dev/null; then
  pdftoppm -r 60 -png -singlefile samples/output/FLS-AUH-2025-0002/patient-letter.pdf samples/letter-2a
  pdftoppm -r 60 -png -singlefile samples/large-print/FLS-AUH-2025-0012/patient-letter.pdf samples/letter-2a-large-print
fi
ls -R samples/output samples/kombi samples/large-print
