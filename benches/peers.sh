#!/usr/bin/env bash
# Runs the peer programs of /work/shared/bench/peers (NumPy, PyTorch CPU, the hand-written
# Rust tight loops) and escapecert's criterion benchmark on the same two problems, in
# interleaved rounds on the same machine, then prints the medians and the ratios that
# issue 4 sets targets for. See benches/peers.md.
#
# Usage:  bash benches/peers.sh [ROUNDS]        (default 3 rounds, about 1 minute each)
# Env:    PEERS=/path/to/peers (default /work/shared/bench/peers)
#         LOG=/path/to/log     (default: a temporary file; its path is printed)
#         TORCH=0              skip PyTorch even when it is installed
# Needs:  cargo; python3 with numpy; optionally torch (`pip install torch`, which pulls the
#         CUDA wheels, about 6 GB; the CPU programs do not use the GPU).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-/work/shared/bench/peers}
ROUNDS=${1:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/escapecert-peers.XXXXXX")
LOG=${LOG:-$WORK/peers.log}
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }

[ -f "$PEERS/mc_numpy.py" ] || { echo "no peers in $PEERS (set PEERS=...)" >&2; exit 2; }
python3 -c 'import numpy' || { echo "python3 with numpy is required" >&2; exit 2; }
USE_TORCH=0
if [ "${TORCH:-1}" != 0 ] && python3 -c 'import torch' 2>/dev/null; then USE_TORCH=1; fi

say "# $(date -u +%FT%TZ) $(nproc) cpus; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
say "# load before: $(cut -d' ' -f1-3 /proc/loadavg); escapecert $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
say "# torch: $([ $USE_TORCH = 1 ] && python3 -c 'import torch; print(torch.__version__)' || echo 'not installed, skipped')"

# The peers' Rust loops build in a scratch copy (the peers directory may be read-only);
# their .cargo/config.toml (target-cpu=native) comes along.
cp -r "$PEERS/limit" "$WORK/limit"
chmod -R u+w "$WORK/limit"
(cd "$WORK/limit" && cargo build --release -q)
(cd "$ROOT" && cargo bench --bench simulate --no-run -q 2>/dev/null)

# escapecert: criterion's throughput estimate (the middle of `thrpt: [lo est hi]`) of
# dw/threads/{1,2} and quad/threads/{1,2}, as RESULT lines like the peers print.
escapecert() {
  (cd "$ROOT" && ESCAPECERT_BENCH_QUICK=1 cargo bench -q --bench simulate -- --noplot '^(dw|quad)/threads') 2>&1 |
    awk '
      /^(dw|quad)\/threads\/[0-9]+/ { split($1, p, "/"); name = "escapecert_" p[1] "_t" p[3] }
      /thrpt:/ && name != "" {
        v = $4; u = $5; gsub(/\[/, "", v)
        s = (u ~ /^G/) ? 1e9 : (u ~ /^M/) ? 1e6 : (u ~ /^K/) ? 1e3 : 1
        printf "RESULT {\"name\": \"%s\", \"unit\": \"particle-steps/s\", \"median\": %g, \"min\": %g, \"max\": %g}\n", name, v * s, v * s, v * s
        name = ""
      }'
}

run() { "$@" 2>&1 | tee -a "$LOG" | grep -E '^RESULT|median' || true; }

for r in $(seq "$ROUNDS"); do
  say "## round $r/$ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
  escapecert | tee -a "$LOG"
  for p in dw quad; do
    run python3 "$PEERS/mc_numpy.py" --problem $p --style inplace --reps 1 --seed $r
    if [ $USE_TORCH = 1 ]; then
      run python3 "$PEERS/mc_torch.py" --problem $p --threads 1 --reps 1 --seed $r
      run python3 "$PEERS/mc_torch.py" --problem $p --threads 1 --dtype float64 --reps 1 --seed $r
      run python3 "$PEERS/mc_torch.py" --problem $p --threads 2 --reps 1 --seed $r
    fi
  done
  run "$WORK/limit/target/release/peers-limit" --target-s 1 --reps 1 --only dw_1,dw_lanes8,quad_1,quad_prefill
done
say "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$LOG" <<'EOF'
import json, statistics, sys

runs = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        r = json.loads(line[7:])
        v = r["median"]
        rate = 1e9 / v if r["unit"].startswith("ns/") else v
        runs.setdefault(r["name"], []).append(rate)

med = {n: statistics.median(v) for n, v in runs.items()}
print(f"\n{'program':34s} {'particle-steps/s':>17s} {'min':>10s} {'max':>10s}  rounds")
for n in sorted(runs):
    v = runs[n]
    print(f"{n:34s} {med[n]:17.4g} {min(v):10.4g} {max(v):10.4g}  {len(v)}")

def best(prefixes, prob):
    c = [(med[n], n) for n in med if n.endswith("_" + prob) and n.startswith(prefixes)]
    return max(c) if c else (None, None)

print("\nRatios (medians over rounds; escapecert runs with the bridge correction on):")
print(f"{'':54s} {'ratio':>8s}  {'target':>7s}  (2 threads / 1 thread: median of per-round ratios)")
ok = True
def show(label, num, den, target):
    global ok
    if num is None or den is None:
        print(f"  {label:52s} {'n/a':>8s}")
        return
    q = num / den
    flag = "ok" if q >= target else "BELOW"
    ok &= q >= target
    print(f"  {label:52s} {q:8.3g}  >= {target:<5g} {flag}")

for prob, limit in (("dw", "rust_dw_lanes8"), ("quad", "rust_quad_prefill")):
    e1 = med.get(f"escapecert_{prob}_t1")
    e2 = med.get(f"escapecert_{prob}_t2")
    show(f"{prob}: escapecert 1 thread / {limit}", e1, med.get(limit), 0.5)
    v, n = best(("numpy_",), prob)
    show(f"{prob}: escapecert 1 thread / {n or 'numpy'}", e1, v, 2.5)
    v, n = best(("torch_cpu_",), prob)
    show(f"{prob}: escapecert 1 thread / {n or 'torch (skipped)'}", e1, v, 2.5)
    # Scaling: t1 and t2 run back to back in each round, so compare within rounds (any
    # other job on the machine slows the 2-thread run first).
    r1, r2 = runs.get(f"escapecert_{prob}_t1", []), runs.get(f"escapecert_{prob}_t2", [])
    per_round = [b / a for a, b in zip(r1, r2)]
    if per_round:
        show(f"{prob}: escapecert 2 threads / 1 thread", statistics.median(per_round), 1.0, 1.8)
        print(f"  {'':52s} (per round: {', '.join(f'{q:.2f}' for q in per_round)})")
    else:
        show(f"{prob}: escapecert 2 threads / 1 thread", e2, e1, 1.8)
print("\nall targets met" if ok else "\nsome targets not met (see BELOW; a busy machine lowers the 2-thread ratio)")
EOF
echo "log: $LOG"
