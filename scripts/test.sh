#!/usr/bin/env bash
# The whole test suite, from a fresh clone: builds everything, runs every test project, and prints one
# "N passed, N failed" line. Anything the tests need is installed and started here and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Sessiond.slnx -c Release -nologo -v:q
status=0
dotnet test Sessiond.slnx -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?

# VSTest prints one "Passed!/Failed! - Failed: F, Passed: P, Skipped: S, Total: T" line per test project.
awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { f += $2; p += $4; s += $6 }
    END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
