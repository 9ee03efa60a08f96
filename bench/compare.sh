#!/usr/bin/env bash
# Times flspost against the floor (xmllint validating the same two files with the official
# schemas) on this machine, in one run, and measures batch throughput and peak memory.
#
#   bench/compare.sh            per-invocation comparison + 10,000-line batch
#   bench/compare.sh --memory   also a 100,000-line batch under /usr/bin/time (peak RSS)
#   bench/compare.sh --journal-size
#                               also `journal list --unanswered` and `journal summary` on a
#                               1,000- and a 100,000-result journal (bench/big-journal.sh;
#                               about 3 minutes)
#
#   FLSPOST_BASELINE=path/to/older/flspost bench/compare.sh
#                               also times that binary on the same inputs, in the same run
#                               (what a change costs: e.g. the durability flushes)
#
#   The resident intake (bench/intake.sh: flspost serve under wrk, 1, 4 and 8 clients) runs
#   after the single invocations, its median set beside the xmllint pair.
#
# Needs ../shared/reference (the official schemas) for the xmllint side; installs hyperfine
# and xmllint from Debian's packages when missing. Prints ratios and results per second.
set -euo pipefail
base="${FLSPOST_BASELINE:+$(readlink -f "$FLSPOST_BASELINE")}" # before the cd: relative to the caller
cd "$(dirname "$0")/.."
root=$(pwd)
ref="$root/../shared/reference"
need() { command -v "$1" > /dev/null || { apt-get update -qq && apt-get install -y -qq "$2" > /dev/null; }; }
need hyperfine hyperfine
need xmllint libxml2-utils
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time > /dev/null; }

cargo build --release --quiet
bin="$root/target/release/flspost"
work="$root/target/bench-compare"
rm -rf "$work" && mkdir -p "$work"
sync
cd "$work"
unset FLSPOST_FAKE_NOW FLSPOST_CONFIG

# Inputs: one result per run with a fresh result_id (an existing one would only be looked up).
cat > next-input.sh <<EOS
#!/bin/sh
sed "s/FLS-AUH-2025-0002/R-\$(date +%s%N)/" "$root/samples/input/group-2a.json" > "$work/in.json"
EOS
chmod +x next-input.sh
python3 - "$root" <<'EOS'
import json, sys
root = sys.argv[1]
base = [json.load(open(f"{root}/samples/input/group-{g}.json")) for g in ["1", "2a", "2b", "3"]]
for n, name in [(10_000, "batch-10k.jsonl"), (100_000, "batch-100k.jsonl")]:
    with open(name, "w") as f:
        for i in range(n):
            v = dict(base[i % 4]); v["result_id"] = f"B-{i:06d}"
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
EOS

# A journal that already holds 1,000 results, as in steady operation (one per hand-off).
printf '[transport.patient]\ntype = "outbox"\ndir = "outbox"\nhandoff = "kombi"\n' > kombi.toml
printf '[gp]\ndefault_format = "carecommunication"\n' > fhir.toml
"$bin" generate --journal "$work/journal.sqlite" <(head -1000 batch-10k.jsonl) --jsonl > /dev/null 2>&1
"$bin" generate --config kombi.toml --journal "$work/journal-kombi.sqlite" <(head -1000 batch-10k.jsonl) --jsonl > /dev/null 2>&1
"$bin" generate --config fhir.toml --journal "$work/journal-fhir.sqlite" <(head -1000 batch-10k.jsonl) --jsonl > /dev/null 2>&1
baseline_args=()
if [ -n "$base" ]; then
  "$base" generate --journal "$work/journal-base.sqlite" <(head -1000 batch-10k.jsonl) --jsonl > /dev/null 2>&1
  baseline_args=(-n baseline "$base generate --journal $work/journal-base.sqlite --out-dir $work/out-base in.json")
fi
./next-input.sh
"$bin" generate --journal "$work/probe.sqlite" --out-dir "$work/probe" in.json > /dev/null
"$bin" generate --config kombi.toml --journal "$work/probe-kombi.sqlite" --out-dir "$work/probe-kombi" in.json > /dev/null
"$bin" generate --config fhir.toml --journal "$work/probe-fhir.sqlite" --out-dir "$work/probe-fhir" in.json > /dev/null
# xmllint's floor for the FHIR letter: the Bundle the envelope carries, against the official R4 schema.
python3 - "$(ls "$work"/probe-fhir/*/gp-carecommunication.xml)" "$work/bundle.xml" <<'EOS'
import base64, re, sys
data = re.search(r"<Data>(.*?)</Data>", open(sys.argv[1], encoding="utf-8").read(), re.S).group(1)
open(sys.argv[2], "wb").write(base64.b64decode("".join(data.split())))
EOS
xdis=$(ls "$work"/probe/*/gp-xdis91.xml)
memo=$(ls "$work"/probe/*/patient-memo.xml)
kombi=$(ls "$work"/probe-kombi/*/patient-kombi.xml)
# xmllint knows no schema for the kombi envelope: its floor is the two parts, each cut out
# and validated against its official schema (MeMo 1.2 core; SF1600 ForsendelseI through one
# wrapper per namespace, as libxml2 reads only the first file imported for a namespace).
if [ -d "$ref" ]; then
python3 - "$kombi" "$ref" "$work" <<'EOS'
import os, re, sys
kombi, ref, work = sys.argv[1:]
s = open(kombi, encoding="utf-8").read()
def cut(a, b):
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + s[s.index(a):s.index(b) + len(b)] + "\n"
open(f"{work}/kombi-memo.xml", "w", encoding="utf-8").write(cut("<memo:Message", "</memo:Message>"))
open(f"{work}/kombi-print.xml", "w", encoding="utf-8").write(cut("<fjernprint:ForsendelseI ", "</fjernprint:ForsendelseI>"))
oio = os.path.realpath(f"{ref}/memo/xsd/fjernprint_sf1600_itk-dev-serviceplatformen/SF1600_EP_SP1-2/xsd/oio")
seen, todo = [], ["ForsendelseI.xsd"]
while todo:
    f = todo.pop()
    if f not in seen:
        seen.append(f)
        todo += re.findall(r'schemaLocation="([^"]+)"', open(f"{oio}/{f}", encoding="utf-8").read())
by = {}
for f in seen:
    ns = re.search(r'targetNamespace="([^"]+)"', open(f"{oio}/{f}", encoding="utf-8").read()).group(1)
    by.setdefault(ns, []).append(f)
imports = ""
for i, (ns, files) in enumerate(sorted(by.items(), key=lambda kv: len(kv[1]))):
    inc = "".join(f'<xs:include schemaLocation="{oio}/{f}"/>' for f in files)
    open(f"{work}/ns{i}.xsd", "w").write(f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{ns}">{inc}</xs:schema>')
    imports += f'<xs:import namespace="{ns}" schemaLocation="ns{i}.xsd"/>'
open(f"{work}/forsendelse.xsd", "w").write(f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>')
EOS
fi

echo "== one invocation per message (hyperfine) =="
if [ -d "$ref" ]; then
  hyperfine -N --warmup 5 --runs 60 --export-json single.json \
    --prepare "$work/next-input.sh" \
    -n flspost "$bin generate --journal $work/journal.sqlite --out-dir $work/out in.json" \
    -n flspost-journal-only "$bin generate --journal $work/journal.sqlite in.json" \
    "${baseline_args[@]}" \
    -n xmllint-xdis91 "xmllint --noout --schema $ref/medcom-oioxml/os2korrespondance/xsd/2006/07/01/EMessage.xsd $xdis" \
    -n xmllint-memo "xmllint --noout --schema $ref/memo/xsd/mortenm12-memo/Version1.2/MeMo_core.xsd $memo" \
    -n flspost-kombi "$bin generate --config kombi.toml --journal $work/journal-kombi.sqlite --out-dir $work/out-kombi in.json" \
    -n xmllint-kombi-memo "xmllint --noout --schema $ref/memo/xsd/mortenm12-memo/Version1.2/MeMo_core.xsd $work/kombi-memo.xml" \
    -n xmllint-kombi-print "xmllint --noout --schema $work/forsendelse.xsd $work/kombi-print.xml" \
    -n flspost-fhir "$bin generate --config fhir.toml --journal $work/journal-fhir.sqlite --out-dir $work/out-fhir in.json" \
    -n xmllint-fhir-bundle "xmllint --noout --schema $ref/medcom-fhir/fhir-r4-xsd/fhir-single.xsd $work/bundle.xml"
else
  echo "NOTICE: ../shared/reference is absent: timing flspost alone"
  hyperfine -N --warmup 5 --runs 60 --export-json single.json --prepare "$work/next-input.sh" \
    -n flspost "$bin generate --journal $work/journal.sqlite --out-dir $work/out in.json" "${baseline_args[@]}"
fi

echo "== the resident intake (flspost serve, POST /generate; wrk) =="
"$root/bench/intake.sh" "$bin" "$work" 1 4 8

echo "== batch of 10,000 results (one core: taskset -c 0; all cores) =="
batch() { # label, cpus, args...
  local label=$1 cpus=$2; shift 2
  rm -rf "$work/bj.sqlite"* "$work/bout"
  /usr/bin/time -f "%e %M" -o time.txt taskset -c "$cpus" "$exe" generate --journal "$work/bj.sqlite" "$@" > /dev/null 2> batch.err
  read -r secs kb < time.txt
  python3 -c "import sys; n=$n; s=$secs; c=len('$cpus'.split(',')); print(f'{sys.argv[1]:<44} {s:6.2f} s  {n/s:6.0f} results/s  {n/s/c:5.0f} /s/core  peak {$kb/1024:4.0f} MB')" "$label"
  grep -v "generated" batch.err || true
}
all=$(seq -s, 0 $(($(nproc) - 1)))
runs() { # prefix
  n=10000; batch "$1journal only, one core" 0 batch-10k.jsonl
  n=10000; batch "$1journal only, $(nproc) cores" "$all" batch-10k.jsonl
  n=10000; batch "$1journal + output folder, one core" 0 --out-dir "$work/bout" batch-10k.jsonl
  n=10000; batch "$1journal + output folder, $(nproc) cores" "$all" --out-dir "$work/bout" batch-10k.jsonl
  n=10000; batch "$1kombi, journal only, one core" 0 --config kombi.toml batch-10k.jsonl
  n=10000; batch "$1GP on FHIR, journal only, one core" 0 --config fhir.toml batch-10k.jsonl
}
exe=$bin; runs ""
if [ -n "$base" ]; then exe=$base; runs "baseline: "; fi
if [ "${1:-}" = "--memory" ]; then
  exe=$bin
  n=100000; batch "100,000 lines, journal only" "$all" batch-100k.jsonl
fi
if [ "${1:-}" = "--journal-size" ]; then
  echo "== journal list --unanswered, one result, on 1,000 and 100,000 results =="
  "$root/bench/big-journal.sh" "$bin" "$work/small.sqlite" 1000
  "$root/bench/big-journal.sh" "$bin" "$work/big.sqlite" 100000
  hyperfine -N --warmup 3 --runs 20 \
    -n "1,000 results" "$bin journal list --journal $work/small.sqlite --unanswered=60 --result F-000501" \
    -n "100,000 results" "$bin journal list --journal $work/big.sqlite --unanswered=60 --result F-000501"
  echo "== journal summary (the work queue's counts and transport health) on 1,000 and 100,000 results =="
  hyperfine -N --warmup 2 --runs 10 \
    -n "summary, 1,000 results" "$bin journal summary --journal $work/small.sqlite" \
    -n "summary, 100,000 results" "$bin journal summary --journal $work/big.sqlite"
  rm -f "$work"/big.sqlite* "$work"/small.sqlite*
fi

# The batches' journals and folders are large; remove them now rather than at the next
# run's start, where freeing them slows the filesystem under the single-call measurement.
rm -rf "$work"/bj.sqlite* "$work"/bout batch-100k.jsonl

python3 - <<'EOS'
import json
r = {x["command"]: x for x in json.load(open("single.json"))["results"]}
f = r["flspost"]["mean"] * 1000
j = r["flspost-journal-only"]["mean"] * 1000
print(f"\nflspost, one message (both built and validated, journaled, written): {f:.1f} ms")
print(f"flspost, the same without --out-dir (journal only):                 {j:.1f} ms")
if "baseline" in r:
    b = r["baseline"]["mean"] * 1000
    print(f"baseline binary, the same:                                           {b:.1f} ms (flspost costs {f - b:+.1f} ms)")
if "xmllint-xdis91" in r:
    x = (r["xmllint-xdis91"]["mean"] + r["xmllint-memo"]["mean"]) * 1000
    print(f"xmllint validating the same two files (official schemas):          {x:.1f} ms")
    print(f"ratio flspost / xmllint: {f / x:.2f} with --out-dir (goal 0.6), {j / x:.2f} journal only (goal 0.5)")
    intake = [l.split() for l in open("intake.txt")]
    for variant, c, med, p99, rps in intake:
        if variant == "journal" and c == "4":
            print(f"intake, 4 clients, median request to durable answer: {float(med):.2f} ms = "
                  f"{float(med) / x:.2f} x the xmllint pair (goal 0.2); {float(rps):.0f} results/s")
        if variant == "fdatasync":
            print(f"(one fdatasync on this disk meanwhile: median {float(med):.2f} ms, the floor of any durable answer)")
if "xmllint-kombi-print" in r:
    k = r["flspost-kombi"]["mean"] * 1000
    x = (r["xmllint-xdis91"]["mean"] + r["xmllint-kombi-memo"]["mean"] + r["xmllint-kombi-print"]["mean"]) * 1000
    print(f"\nflspost, kombi hand-off (XDIS91 + kombi request, validated, journaled, written): {k:.1f} ms")
    print(f"xmllint validating XDIS91, the MeMo part and the ForsendelseI part (official):   {x:.1f} ms")
    print(f"ratio flspost / xmllint: {k / x:.2f}")
if "xmllint-fhir-bundle" in r:
    k = r["flspost-fhir"]["mean"] * 1000
    x = (r["xmllint-fhir-bundle"]["mean"] + r["xmllint-memo"]["mean"]) * 1000
    print(f"\nflspost, GP on FHIR (CareCommunication envelope + MeMo, validated, journaled, written): {k:.1f} ms")
    print(f"xmllint validating the Bundle (official R4 schema) and the MeMo (official):        {x:.1f} ms")
    print(f"ratio flspost / xmllint: {k / x:.2f}")
EOS
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GB, SHA-NI $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no), load $(cut -d' ' -f1-3 /proc/loadavg)"
