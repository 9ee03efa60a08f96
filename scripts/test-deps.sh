#!/usr/bin/env bash
# Installs what the tests use besides Rust, when it is missing: poppler-utils (pdftotext,
# pdfinfo, pdffonts read the letters), libxml2-utils (xmllint, for ../shared/tools/check-official),
# Python's aiosmtpd (the real SMTP server the delivery tests talk to) and strace (the
# durability tests read the order of flushes and renames from it). The tests install
# these themselves on first use too; doing it here first keeps that out of their timing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v pdftotext > /dev/null || missing+=(poppler-utils)
command -v xmllint > /dev/null || missing+=(libxml2-utils)
python3 -c 'import venv' 2> /dev/null || missing+=(python3-venv)
command -v strace > /dev/null || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null
fi
if ! python3 -c 'import aiosmtpd' 2> /dev/null && ! target/test-venv/bin/python -c 'import aiosmtpd' 2> /dev/null; then
  echo "installing aiosmtpd into target/test-venv" >&2
  python3 -m venv target/test-venv
  target/test-venv/bin/python -m pip install -q aiosmtpd
fi
