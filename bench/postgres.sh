#!/usr/bin/env bash
# The journal on PostgreSQL beside SQLite, on this machine, in one run: a 10,000-result batch
# (journal only) into a new journal of each store, the same batch split over two processes
# at once (two hosts' gateways), and one `generate` invocation into a journal that holds
# 1,000 results (hyperfine, fresh result id each run). PostgreSQL is the private test server
# (scripts/pg-test-server.sh: a Unix socket on this machine, fsync on), so the numbers leave
# out a network between host and database; add its round trip per statement for a real one.
#
#   bench/postgres.sh           prints results per second and milliseconds per invocation
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command -v hyperfine > /dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine > /dev/null; }
cargo build --release --quiet
bin="$root/target/release/flspost"
server=$(scripts/pg-test-server.sh)
work="$root/target/bench-postgres"
rm -rf "$work" && mkdir -p "$work"
cd "$work"
unset FLSPOST_FAKE_NOW FLSPOST_CONFIG FLSPOST_JOURNAL
python3 - "$root" <<'EOS'
import json, sys
root = sys.argv[1]
base = [json.load(open(f"{root}/samples/input/group-{g}.json")) for g in ["1", "2a", "2b", "3"]]
with open("batch-10k.jsonl", "w") as f:
    for i in range(10_000):
        v = dict(base[i % 4]); v["result_id"] = f"B-{i:06d}"
        f.write(json.dumps(v, ensure_ascii=False) + "\n")
EOS
head -5000 batch-10k.jsonl > half-1.jsonl
tail -5000 batch-10k.jsonl > half-2.jsonl
fresh_db() { # a new, empty database on the test server; prints its URL
  psql -q "$server" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" > /dev/null
  echo "${server/\/postgres\?//$1?}"
}
rate() { python3 -c "import sys; print(f'{10000 / float(sys.argv[1]):,.0f} results/s ({float(sys.argv[1]):.1f} s)')" "$1"; }
timed() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }

echo "== a 10,000-result batch, journal only, into a new journal"
echo "SQLite:       $(rate "$(timed "$bin" generate --journal "$work/batch.sqlite" batch-10k.jsonl)")"
pg=$(fresh_db flspost_bench_batch)
echo "PostgreSQL:   $(rate "$(timed "$bin" generate --journal "$pg" batch-10k.jsonl)")"
echo "== the same batch as two halves at once (two gateways)"
two() { "$bin" generate --journal "$1" half-1.jsonl > /dev/null 2>&1 & "$bin" generate --journal "$1" half-2.jsonl > /dev/null 2>&1; wait; }
echo "SQLite:       $(rate "$(timed two "$work/two.sqlite")")"
pg2=$(fresh_db flspost_bench_two)
"$bin" journal migrate --journal "$pg2" > /dev/null 2>&1
echo "PostgreSQL:   $(rate "$(timed two "$pg2")")"

echo "== one generate invocation, a journal of 1,000 results"
head -1000 batch-10k.jsonl > first-1k.jsonl
"$bin" generate --journal "$work/one.sqlite" first-1k.jsonl > /dev/null 2>&1
pg3=$(fresh_db flspost_bench_one)
"$bin" generate --journal "$pg3" first-1k.jsonl > /dev/null 2>&1
cat > next-input.sh <<EOS
#!/bin/sh
sed "s/FLS-AUH-2025-0002/R-\$(date +%s%N)/" "$root/samples/input/group-2a.json" > "$work/in.json"
EOS
chmod +x next-input.sh
hyperfine -N --warmup 3 --runs 40 --prepare ./next-input.sh \
  -n sqlite "$bin generate --journal $work/one.sqlite $work/in.json" \
  -n postgresql "$bin generate --journal $pg3 $work/in.json" 2>&1 | grep -E "^Benchmark|Time|±" || true
for db in flspost_bench_batch flspost_bench_two flspost_bench_one; do psql -q "$server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null; done
