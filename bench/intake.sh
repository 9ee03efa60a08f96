#!/usr/bin/env bash
# The resident intake under load: `flspost serve` with [server.intake] on, several clients at
# once (wrk, each request a result with a new result_id, so every answer is a generation and
# a durable commit), the median and 99th percentile time from request to durable answer.
#
#   bench/intake.sh BIN WORKDIR [CLIENTS...]     (default clients: 1 4 8)
#
# Prints one line per run and writes WORKDIR/intake.txt ("variant clients median_ms p99_ms
# req_per_s" per line: the disk's fdatasync first, then journal only, then with out_dir), which
# bench/compare.sh sets beside xmllint. wrk runs on the same cores as the server.
# Installs wrk from Debian's packages when missing.
set -euo pipefail
bin=$(readlink -f "$1")
work=$(readlink -f "$2")
shift 2
if [ $# -gt 0 ]; then clients=("$@"); else clients=(1 4 8); fi
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
dir="$work/intake"
rm -rf "$dir" && mkdir -p "$dir"
cd "$dir"
unset FLSPOST_FAKE_NOW FLSPOST_CONFIG FLSPOST_JOURNAL
head -c 24 /dev/urandom | base64 | tr -d '/+=' > token
chmod 600 token
# Each request the sample with a result_id of its own: thread number and counter.
cat > intake.lua <<EOL
local counter, id, threads = 0, 0, 0
local f = assert(io.open("$root/samples/input/group-2a.json"))
local body = f:read("*a")
f:close()
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  id = wrk.thread:get("id")
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. io.open("$dir/token"):read("*l")
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local b = body:gsub("FLS%-AUH%-2025%-0002", string.format("W-%d-%d", id, counter))
  return wrk.format(nil, nil, nil, b)
end
EOL
: > "$work/intake.txt"
# The floor under every durable answer: one fdatasync on this disk, now.
python3 - "$work/intake.txt" <<'EOP'
import os, sys, time
fd = os.open("fsync-probe", os.O_WRONLY | os.O_CREAT, 0o600)
ts = []
for _ in range(200):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter()
    os.fdatasync(fd)
    ts.append(time.perf_counter() - t)
ts.sort()
print(f"this disk, one fdatasync of 4 KiB: median {ts[100] * 1000:.2f} ms, p90 {ts[180] * 1000:.2f} ms")
open(sys.argv[1], "a").write(f"fdatasync 0 {ts[100] * 1000} {ts[180] * 1000} 0\n")
EOP
for variant in journal out_dir; do
  for c in "${clients[@]}"; do
    rm -rf j.sqlite* out serve.log
    extra=""
    [ "$variant" = out_dir ] && extra='out_dir = "out"'
    printf '[server]\nlisten = "127.0.0.1:0"\n\n[server.intake]\ntoken_file = "token"\n%s\n' "$extra" > c.toml
    : > empty.jsonl
    "$bin" generate --journal j.sqlite empty.jsonl 2> /dev/null
    "$bin" serve --config c.toml --journal j.sqlite 2> serve.log &
    pid=$!
    for _ in $(seq 100); do grep -q "url=" serve.log && break; sleep 0.05; done
    url=$(grep -o 'http://[^ ]*' serve.log | head -1)
    # Warm-up (the first requests compile the schemas and fill SQLite's caches).
    wrk -t1 -c1 -d2s -s intake.lua "${url}generate" > /dev/null
    wrk -t"$(( c < 2 ? c : 2 ))" -c"$c" -d10s --latency -s intake.lua "${url}generate" > wrk.txt
    kill -TERM "$pid"
    wait "$pid"
    if grep -q "Non-2xx" wrk.txt; then
      echo "intake: some answers were not 200:" >&2
      cat wrk.txt >&2
      exit 1
    fi
    answered=$(python3 -c "import sqlite3; print(sqlite3.connect('j.sqlite').execute('select count(*) from inputs').fetchone()[0])")
    python3 - "$variant" "$c" "$answered" wrk.txt "$work/intake.txt" <<'EOP'
import re, sys
variant, c, answered, path, out = sys.argv[1:]
t = open(path).read()
def ms(label):
    v, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", t, re.M).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
med, p99 = ms("50%"), ms("99%")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
label = "journal only" if variant == "journal" else "with out_dir"
print(f"intake, {label}, {c} client(s): median {med:.2f} ms, p99 {p99:.2f} ms, {rps:.0f} results/s "
      f"({answered} recorded in the run)")
open(out, "a").write(f"{variant} {c} {med} {p99} {rps}\n")
EOP
  done
done
