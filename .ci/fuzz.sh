#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang in build-fuzz/ (library instrumented, ASan + UBSan)
# and runs each for FUZZ_SECONDS (default 30) from its corpus in tests/fuzz/corpus/<target>
# (read-only; new inputs go to a temp folder). Prints one JSON line per target: seconds run and
# inputs tried. Any crash, leak or hang fails, with one exception, reported, not failed:
# libhdf5 1.10 (Debian 12) corrupts memory and loops on malformed global heaps (any
# variable-length string attribute reaches them), so the weights-file target runs in fork mode
# and a crash or hang whose stack lies in libhdf5 is counted, not fatal; one in reel still fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
TARGETS=(input_line pipeline_file ledger model_config s3_xml aws_config model_card weights_file)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_BUILD_FUZZERS=ON -DREEL_CUDA=OFF >&2
cmake --build build-fuzz -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$work/$t"
  mode=()
  [ "$t" = weights_file ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  start=$(date +%s)
  rc=0
  "build-fuzz/tests/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "${mode[@]}" "$work/$t" "tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  if [ "$t" = weights_file ]; then
    # Fork mode logs no stacks: each failing input is run again alone, for its stack.
    for a in "$work"/crash-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$a" ] || continue
      timeout 120 "build-fuzz/tests/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "$a" >>"$work/$t.log" 2>&1 || true
      rm -f "$a"
    done
  fi
  /usr/bin/python3 - "$t" "$work/$t.log" "$rc" "$took" <<'PY' || status=1
import json, re, sys
target, log, rc, took = sys.argv[1], open(sys.argv[2], errors="replace").read(), int(sys.argv[3]), int(sys.argv[4])
runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
forked = re.findall(r"^#(\d+):", log, re.M)
inputs = int(runs[-1]) if runs else (int(forked[-1]) if forked else 0)
# One report per failure (a sanitizer error, libFuzzer's deadly signal or timeout) with its
# stack; it is libhdf5's when the first frame naming either libhdf5 or reel names libhdf5.
reports = [r for r in re.split(r"(?m)^(?===\d+==\s*ERROR)", log)[1:] if re.search(r"(?m)^\s+#\d+ ", r)]
# A bad access to memory reel allocated (its "allocated by" stack names reel first) is reel's,
# even with libhdf5 on top: a buffer reel sized too small for what it asked libhdf5 to write.
def first(r):
    m = re.search(r"(?m)^\s+#\d+ .*?(libhdf5|reel::)", r)
    return m.group(1) if m else None
def in_hdf5(r):
    parts = r.split("allocated by thread")
    return first(parts[0]) == "libhdf5" and all(first(p) in ("libhdf5", None) for p in parts[1:])
ours = [r for r in reports if not in_hdf5(r)]
hdf5 = len(reports) - len(ours)
ok = (rc == 0 and not reports) or (target == "weights_file" and not ours)
print(json.dumps({"target": target, "seconds": took, "inputs": inputs, "libhdf5_failures": hdf5, "ok": ok}))
if not ok:
    print(log[-6000:], file=sys.stderr)
    sys.exit(1)
PY
done
exit $status
