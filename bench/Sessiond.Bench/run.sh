#!/usr/bin/env bash
# The micro-benchmarks, in one command:   bench/Sessiond.Bench/run.sh
#
# Builds bench/Sessiond.Bench in Release, runs its BenchmarkDotNet benchmarks (short, in-process jobs; see BenchConfig.cs)
# and replaces the section between <!-- micro:begin --> and <!-- micro:end --> of docs/benchmarks.md with the joined
# summary. Settings (environment): FILTER='*' (a BenchmarkDotNet --filter), OUT=docs/benchmarks.md (OUT=- prints the
# section instead), QUIET_WAIT=300 (seconds to wait for other processes to leave the CPUs idle).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../common.sh
source bench/common.sh

command_line="bench/Sessiond.Bench/run.sh"
if [[ -n "${FILTER:-}" ]]; then command_line="FILTER='$FILTER' $command_line"; fi
FILTER=${FILTER:-*}
OUT=${OUT:-docs/benchmarks.md}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d /tmp/sessiond-micro.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Separate artifacts keep this build from racing a concurrent `dotnet build` of the solution over the same bin/ and obj/.
artifacts=bench/Sessiond.Bench/bin/artifacts
bench_log "building bench/Sessiond.Bench (Release)"
dotnet build bench/Sessiond.Bench -c Release -nologo -v:q --artifacts-path "$artifacts" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; bench_log "error: the benchmarks did not build"; exit 1; }
cp -r "$artifacts/bin/Sessiond.Bench/release" "$work/bench"
revision=$(bench_revision)

bench_wait_for_quiet
busy_before=$bench_busy_before
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_others_start
bench_log "running the benchmarks ($FILTER)"
(cd "$work" && dotnet bench/Sessiond.Bench.dll --filter "$FILTER" --artifacts "$work/artifacts") >"$work/run.log" 2>&1 \
  || { tail -n 50 "$work/run.log" >&2; bench_log "error: the benchmarks failed"; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
others_share=$(bench_others_share)
mapfile -t reports < <(find "$work/artifacts/results" -name '*-report-github.md' | sort)
((${#reports[@]} > 0)) || { tail -n 50 "$work/run.log" >&2; bench_log "error: no report was written"; exit 1; }
if grep -q 'Benchmarks with issues' "$work/run.log"; then
  grep -A 20 'Benchmarks with issues' "$work/run.log" >&2
  bench_log "error: some benchmarks failed; see above"
  exit 1
fi

section="$work/section.md"
{
  echo "## Micro-benchmarks"
  echo
  echo '```sh'
  echo "$command_line"
  echo '```'
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(bench_machine); built from $revision."
  echo "Other processes kept the CPUs ${busy_before}% busy just before the run and took ${others_share}% of the machine's CPU time during it"
  echo "(load average ${load_before} before, ${load_after} after); figures taken beside other work are slow and noisy."
  echo "The concurrent append benchmarks report the time per append (64 appends per operation). Error is half the 99.9% confidence"
  echo "interval of a short run (3 iterations): compare figures with a change by rerunning both on one machine."
  # The environment block that opens every report is the same, so it is kept once; then one table per class.
  echo
  awk '/^```/ { print; if (++fence == 2) exit; next } fence == 1 { print }' "${reports[0]}"
  for report in "${reports[@]}"; do
    class=$(basename "$report" -report-github.md)
    echo
    echo "### ${class##*.}"
    echo
    awk 'fence >= 2 && NF > 0 { print } /^```/ { fence++ }' "$report"
  done
} >"$section"

if [[ "$OUT" == "-" ]]; then
  cat "$section"
else
  bench_replace_section micro "$OUT" "$section"
  bench_log "wrote $OUT"
fi
