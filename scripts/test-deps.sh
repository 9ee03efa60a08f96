#!/usr/bin/env bash
# Installs what the tests use besides Rust, when it is missing: poppler-utils (pdftotext,
# pdfinfo, pdffonts read the letters), libxml2-utils (xmllint, for ../shared/tools/check-official)
# and Python's aiosmtpd (the real SMTP server the delivery tests talk to). The tests install
# these themselves on first use too; doing it here first keeps that out of their timing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v pdftotext > /dev/null || missing+=(poppler-utils)
command -v xmllint > /dev/null || missing+=(libxml2-utils)
python3 -c 'import venv' 2> /dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null
fi
if ! python3 -c 'import aiosmtpd' 2> /dev/null && ! target/test-venv/bin/python -c 'import aiosmtpd' 2> /dev/null; then
  echo "installing aiosmtpd into target/test-venv" >&2
  python3 -m venv target/test-venv
  target/test-venv/bin/python -m pip install -q aiosmtpd
fi
# The FHIRPath oracle for the CareCommunication tests (tests/fhir.rs): MedCom's invariants
# evaluated by fhirpath.js, from ../shared, installed under target/ (never committed).
oracle=../shared/reference/medcom-fhir/tools/invariant-check
if [ -d "$oracle" ] && command -v npm > /dev/null && [ ! -d target/invariant-check/node_modules/fhirpath ]; then
  echo "installing the FHIRPath oracle into target/invariant-check" >&2
  mkdir -p target/invariant-check
  cp "$oracle"/check-invariants.js "$oracle"/package.json "$oracle"/package-lock.json target/invariant-check/
  (cd target/invariant-check && npm ci --no-audit --no-fund --silent)
fi
