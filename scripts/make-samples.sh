#!/usr/bin/env bash
# Regenerates the checked-in samples with a fixed clock, so they are reproducible byte for
# byte (tests/all/samples.rs checks that they are current):
#   samples/output/      every samples/input/*.json, MeMo hand-off, normal print;
#   samples/kombi/       group 3 with the kombi hand-off (samples/kombi.toml);
#   samples/large-print/ samples/large-print.json (group 2a, patient.large_print);
#   samples/carecommunication/ group 2a to a GP on FHIR (samples/carecommunication.toml),
#                        and the Bundle its envelope carries, decoded, in
#                        samples/carecommunication-bundle.xml for reading;
# and renders page 1 of letters to PNG for the README (samples/letter-*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
export FLSPOST_FAKE_NOW=2025-03-20T09:30:00Z
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
rm -rf samples/output samples/kombi samples/large-print samples/carecommunication
./target/release/flspost generate --journal "$tmp/journal.sqlite" --out-dir samples/output samples/input/*.json > /dev/null
./target/release/flspost generate --journal "$tmp/kombi.sqlite" --config samples/kombi.toml --out-dir samples/kombi \
  samples/input/group-3.json > /dev/null
./target/release/flspost generate --journal "$tmp/large.sqlite" --out-dir samples/large-print samples/large-print.json > /dev/null
./target/release/flspost generate --journal "$tmp/fhir.sqlite" --config samples/carecommunication.toml \
  --out-dir samples/carecommunication samples/input/group-2a.json > /dev/null
python3 - samples/carecommunication/FLS-AUH-2025-0002/gp-carecommunication.xml samples/carecommunication-bundle.xml <<'PY'
import base64, re, sys
envelope = open(sys.argv[1], encoding="utf-8").read()
data = re.search(r"<Data>(.*?)</Data>", envelope, re.S).group(1)
open(sys.argv[2], "wb").write(base64.b64decode("".join(data.split())))
PY
for d in samples/output samples/kombi samples/large-print samples/carecommunication; do
  rm -rf "$d/.flspost-tmp"
  chmod -R u+rwX,go+rX "$d"   # flspost writes owner-only; these are fictitious samples for git
done
if command -v pdftoppm > /dev/null; then
  pdftoppm -r 60 -png -singlefile samples/output/FLS-AUH-2025-0002/patient-letter.pdf samples/letter-2a
  pdftoppm -r 60 -png -singlefile samples/large-print/FLS-AUH-2025-0012/patient-letter.pdf samples/letter-2a-large-print
fi
ls -R samples/output samples/kombi samples/large-print samples/carecommunication
