#!/usr/bin/env bash
# Bytes the journal holds per result, for each way a result travels: the GP's copy as XDIS91
# and the patient's as MeMo (the default), the patient's as a kombi request, and the GP's as a
# CareCommunication with the patient's PDF attached. Each is a fresh journal of N results
# (the four samples over and over, default 400), checkpointed and vacuumed, so the file's
# size is what the rows take.
#
#   bench/journal-size.sh [N]        FLSPOST=path/to/flspost bench/journal-size.sh
#
# Prints, per way: the file's bytes per result, and what the message bytes, the shared
# parts (the PDF stored once) and the inputs take of it.
set -euo pipefail
n="${1:-400}"
cd "$(dirname "$0")/.."
root=$(pwd)
bin="${FLSPOST:-}"
if [ -z "$bin" ]; then cargo build --quiet && bin="$root/target/debug/flspost"; fi
command -v sqlite3 > /dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 > /dev/null; }
work="$root/target/journal-size"
rm -rf "$work" && mkdir -p "$work"
python3 - "$n" "$work/batch.jsonl" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
bases = [json.load(open(f"samples/input/group-{g}.json")) for g in ("1", "2a", "2b", "3")]
with open(out, "w") as f:
    for i in range(n):
        v = dict(bases[i % 4]); v["result_id"] = f"FLS-AUH-2026-{i:05d}"
        f.write(json.dumps(v, ensure_ascii=False) + "\n")
PY
cat > "$work/xdis91-memo.toml" <<TOML
journal = "$work/xdis91-memo.sqlite"
TOML
cat > "$work/kombi.toml" <<TOML
journal = "$work/kombi.sqlite"
[transport.patient]
type = "outbox"
dir = "$work/serviceplatformen"
handoff = "kombi"
TOML
cat > "$work/carecommunication-memo.toml" <<TOML
journal = "$work/carecommunication-memo.sqlite"
[gp]
receivers = "$root/samples/receivers.csv"
default_format = "carecommunication"
attach_pdf = true
TOML
printf '%-24s %10s %10s %10s %10s\n' "way" "file/res" "messages" "parts" "inputs"
for way in xdis91-memo kombi carecommunication-memo; do
  FLSPOST_FAKE_NOW=2026-03-20T09:30:00Z "$bin" generate --config "$work/$way.toml" "$work/batch.jsonl" > /dev/null 2>&1
  db="$work/$way.sqlite"
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" > /dev/null
  parts=$(sqlite3 "$db" "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'parts') THEN 1 ELSE 0 END")
  [ "$parts" = 1 ] && parts="SELECT COALESCE(SUM(length(bytes)), 0) FROM parts" || parts="SELECT 0"
  read -r msgs prt inputs < <(sqlite3 -separator ' ' "$db" \
    "SELECT (SELECT SUM(length(bytes)) FROM message_bytes), ($parts), (SELECT SUM(length(CAST(input_json AS BLOB))) FROM inputs)")
  printf '%-24s %10d %10d %10d %10d\n' "$way" $(( $(stat -c %s "$db") / n )) $(( msgs / n )) $(( prt / n )) $(( inputs / n ))
done
