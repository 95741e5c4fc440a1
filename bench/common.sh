# Shared by bench/load/run.sh and bench/Sessiond.Bench/run.sh; sourced, not run.

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Percent of all CPU time spent busy over the next $1 seconds, from /proc/stat.
bench_cpu_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; busy = (t > 0) ? 100 * (y[1] - x[1]) / t : 0; printf "%.0f", busy }'
}

# Waits (at most QUIET_WAIT seconds, default 300) until other processes leave the CPUs at most 15% busy, because
# figures taken next to a build or a test run measure that instead. Sets bench_busy_before to the last reading.
bench_wait_for_quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT:-300})) quiet=0
  while :; do
    bench_busy_before=$(bench_cpu_busy 3)
    # Two quiet readings in a row, so a pause between two test projects does not count as quiet.
    if ((bench_busy_before <= 15)); then
      ((++quiet >= 2)) && return 0
      continue
    fi
    quiet=0
    if ((SECONDS >= deadline)); then
      bench_log "other processes keep the CPUs ${bench_busy_before}% busy; measuring anyway"
      return 0
    fi
    bench_log "other processes keep the CPUs ${bench_busy_before}% busy; waiting for quiet"
    sleep 7
  done
}

# CPU ticks of a live process ($1; nothing when empty or gone): user + system time, from /proc/<pid>/stat.
bench_process_ticks() {
  if [[ -n "${1:-}" && -r "/proc/$1/stat" ]]; then
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
  else
    echo 0
  fi
}

# Starts measuring how much CPU time processes other than this script, its children and the live process $1 (the server,
# optional) take; see bench_others_share.
bench_others_start() {
  read -r bench_busy0 bench_total0 < <(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  bench_children0=$(awk '{ print $16 + $17 }' "/proc/$$/stat")
  bench_process0=$(bench_process_ticks "${1:-}")
}

# Percent of the machine's CPU time since bench_others_start spent by other processes: all busy time, less what this
# script's children used (wrk, curl, the servers and tools, counted once they are waited for) and what the live process
# $1 used (pass the same process as to bench_others_start). Near 0 means the figures measured the server and nothing else.
bench_others_share() {
  local busy total children process
  read -r busy total < <(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  children=$(awk '{ print $16 + $17 }' "/proc/$$/stat")
  process=$(bench_process_ticks "${1:-}")
  awk -v b=$((busy - bench_busy0)) -v t=$((total - bench_total0)) -v c=$((children - bench_children0 + process - bench_process0)) \
    'BEGIN { share = (t > 0) ? 100 * (b - c) / t : 0; if (share < 0) share = 0; printf "%.0f", share }'
}

# One line describing this machine and toolchain.
bench_machine() {
  local cpu memory_gb
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  memory_gb=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 / 1024 }' /proc/meminfo)
  printf '%s cores (%s), %s GB memory, Linux %s, .NET SDK %s' "$(nproc)" "$cpu" "$memory_gb" "$(uname -r)" "$(dotnet --version)"
}

# The commit measured, and whether src/ had uncommitted changes at the time.
bench_revision() {
  local revision
  revision=$(git rev-parse --short HEAD)
  if [[ -n "$(git status --porcelain -- src)" ]]; then revision="$revision + uncommitted changes in src/"; fi
  printf '%s' "$revision"
}

# bench_replace_section name file section_file: replaces what lies between <!-- name:begin --> and <!-- name:end -->
# in file with the content of section_file, keeping everything else; appends a marked section when there is none.
bench_replace_section() {
  local name=$1 file=$2 section=$3 begin="<!-- $1:begin -->" end="<!-- $1:end -->"
  if [[ ! -f "$file" ]]; then printf '# Benchmarks\n' >"$file"; fi
  if grep -qF "$begin" "$file" && grep -qF "$end" "$file"; then
    awk -v section="$section" -v begin="$begin" -v end="$end" '
      $0 == begin { print; while ((getline line < section) > 0) print line; skipping = 1; next }
      $0 == end { skipping = 0 }
      !skipping { print }' "$file" >"$file.tmp.$$"
    cat "$file.tmp.$$" >"$file"
    rm -f "$file.tmp.$$"
  else
    { echo; echo "$begin"; cat "$section"; echo "$end"; } >>"$file"
  fi
}

# bench_build_release artifacts_dir work_dir build_log project:name ...: builds each project in Release into
# artifacts_dir, apart from the tree's own bin/ and obj/ so a concurrent `dotnet build` cannot race it, and copies its
# output to work_dir/name, so rebuilding the tree while a benchmark runs cannot swap the binaries under the server.
bench_build_release() {
  local artifacts=$1 work=$2 build_log=$3 spec project
  shift 3
  for spec in "$@"; do
    project=${spec%%:*}
    dotnet build "$project" -c Release -nologo -v:q --artifacts-path "$artifacts" >>"$build_log" 2>&1 \
      || { cat "$build_log" >&2; bench_log "$project did not build"; return 1; }
    cp -r "$artifacts/bin/$(basename "$project")/release" "$work/${spec##*:}"
  done
}
