#!/usr/bin/env bash
# Installs what the tests use besides Rust, when it is missing. The tests install nothing
# themselves: a test that lacks a tool fails and names this script.
#   poppler-utils  pdftotext, pdfinfo, pdffonts, pdftoppm: read the letters back
#   libxml2-utils  xmllint: ../shared/tools/check-official, and tests/all/messages/kombi.rs
#                  against the official MeMo and SF1600 schemas
#   openssl        a test CA and server certificate for the STARTTLS test
#   python3-venv   a venv under target/ for Python's aiosmtpd, the real SMTP server, and
#                  prometheus_client, whose parser reads the console's /metrics
#   chromium, chromium-driver  the console's end-to-end tests drive a real headless browser
#   strace         the durability tests read the order of flushes and renames from it
#   postgresql     the suite again on a PostgreSQL journal, and the two-host test: a private
#                  server started by scripts/pg-test-server.sh (initdb, a Unix socket only)
#   npm            (on the machine) the FHIRPath oracle from ../shared, installed under target/
# Debian packages need root (CI runs as root); without it the script says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v pdftotext > /dev/null || missing+=(poppler-utils)
command -v xmllint > /dev/null || missing+=(libxml2-utils)
command -v openssl > /dev/null || missing+=(openssl)
command -v curl > /dev/null || missing+=(curl)
command -v strace > /dev/null || missing+=(strace)
python3 -c 'import venv, ensurepip' 2> /dev/null || missing+=(python3-venv)
command -v chromium > /dev/null || missing+=(chromium)
command -v chromedriver > /dev/null || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: missing Debian packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "test-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! python3 -c 'import aiosmtpd' 2> /dev/null && ! target/test-venv/bin/python -c 'import aiosmtpd' 2> /dev/null; then
  echo "test-deps: installing aiosmtpd into target/test-venv" >&2
  python3 -m venv target/test-venv
  target/test-venv/bin/python -m pip install -q aiosmtpd
fi
if ! target/test-venv/bin/python -c 'import prometheus_client' 2> /dev/null; then
  echo "test-deps: installing prometheus_client into target/test-venv" >&2
  [ -x target/test-venv/bin/python ] || python3 -m venv target/test-venv
  target/test-venv/bin/python -m pip install -q prometheus_client
fi
# The FHIRPath oracle for the CareCommunication tests (tests/all/messages/fhir/): MedCom's
# invariants evaluated by fhirpath.js, from ../shared, installed under target/ (never committed).
oracle=../shared/reference/medcom-fhir/tools/invariant-check
if [ -d "$oracle" ] && command -v npm > /dev/null && [ ! -d target/invariant-check/node_modules/fhirpath ]; then
  echo "test-deps: installing the FHIRPath oracle into target/invariant-check" >&2
  mkdir -p target/invariant-check
  cp "$oracle"/check-invariants.js "$oracle"/package.json "$oracle"/package-lock.json target/invariant-check/
  (cd target/invariant-check && npm ci --no-audit --no-fund --silent)
fi
echo "test-deps: ready" >&2
