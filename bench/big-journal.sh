#!/usr/bin/env bash
# Makes a journal of N results (default 100,000) in a steady state, for the journal-size
# benchmarks: generated from the four sample inputs with fresh result ids, then, with SQL,
# every message handed over once (status sent, one attempt) and one in a thousand failed.
#
#   bench/big-journal.sh FLSPOST_BINARY JOURNAL [N]
set -euo pipefail
bin=$1; journal=$2; n=${3:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset FLSPOST_FAKE_NOW FLSPOST_CONFIG
python3 - "$root" "$n" > "$work/fill.jsonl" <<'EOS'
import json, sys
root, n = sys.argv[1], int(sys.argv[2])
base = [json.load(open(f"{root}/samples/input/group-{g}.json")) for g in ["1", "2a", "2b", "3"]]
for i in range(n):
    v = dict(base[i % 4]); v["result_id"] = f"F-{i:06d}"
    print(json.dumps(v, ensure_ascii=False))
EOS
rm -f "$journal" "$journal"-wal "$journal"-shm
"$bin" generate --journal "$journal" "$work/fill.jsonl" > /dev/null
python3 - "$journal" <<'EOS'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE messages SET status='sent', updated_at='2026-12-01T10:00:00.000Z'")
c.execute("INSERT INTO attempts (message_id, envelope_id, transport, started_at, finished_at, outcome) "
          "SELECT id, envelope_id, 'outbox', '2026-12-01T09:59:00.000Z', '2026-12-01T10:00:00.000Z', 'sent' FROM messages")
c.execute("UPDATE messages SET status='failed', reason='test failure', updated_at='2026-12-02T10:00:00.000Z' WHERE id % 1000 = 7")
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOS
echo "$journal: $n results"
