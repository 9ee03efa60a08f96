#!/usr/bin/env bash
# Writes the evidence of MedCom's Acknowledgement test protocol (receive, v2.0.4) for flspost:
# runs tests/all/certification (each step under a pinned clock, with the protocol's resend
# policy and again with the regions') and keeps, per policy and step, every command run with
# its output (log.txt), the Acknowledgements read (XML, JSON, JSON in a VANSEnvelope), what
# went to the VANS outbox, `journal show` / `journal queue` as a person reads them, and a
# screenshot of the console's page of the step's message (console-message-<id>.png: `flspost
# serve` on the step's journal, signed in as an operator in headless Chromium; CPR numbers
# masked as the page always shows them). Needs `bash scripts/test-deps.sh` (chromium, its driver).
#
#   bash scripts/certification-evidence.sh [DIR]     # default: target/certification-evidence
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/certification-evidence}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
umask 077
# The steps need MedCom's JSON examples from ../shared/reference (the IG package).
[ -d ../shared/reference ] || { echo "certification-evidence: ../shared/reference is needed (MedCom's packages)" >&2; exit 2; }
FLSPOST_EVIDENCE_DIR="$dir" cargo test --test all certification -- --test-threads=1 2>&1 | tee "$dir/test-run.txt"
{
  echo "flspost $(git describe --always --dirty 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "MedCom Acknowledgement test protocol (receive) v2.0.4: evidence per policy and step"
  for policy in "$dir"/*/; do
    echo "policy $(basename "$policy")"
    for step in "$policy"*/; do echo "  $(basename "$step"): $(ls "$step" | wc -l) files"; done
  done
} > "$dir/README.txt"
cat "$dir/README.txt"
