#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One bounded libFuzzer run, as CTest starts it:
#   run_fuzz.sh BINARY WORK_CORPUS SEED_CORPUS ARTIFACT_PREFIX [DICT]
# New inputs go to WORK_CORPUS (build tree), crashes to ARTIFACT_PREFIX*.
# HOOKFWD_FUZZ_SECONDS in the environment overrides the configured time.
set -u
bin=$1 work=$2 seeds=$3 art=$4 dict=${5:-}
secs=${HOOKFWD_FUZZ_SECONDS:-${HOOKFWD_FUZZ_DEFAULT_SECONDS:-60}}
mkdir -p "$work" "$(dirname "$art")"
args=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=16384
      -artifact_prefix="$art" -print_final_stats=1)
[ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
echo "fuzzing $(basename "$bin") for ${secs}s"
exec "$bin" "${args[@]}" "$work" "$seeds"
