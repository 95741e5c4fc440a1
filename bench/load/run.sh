#!/usr/bin/env bash
# The HTTP load harness, in one command:   bench/load/run.sh
#
# Builds the server in Release, starts it on 127.0.0.1 (a port the OS picks) over a fresh data directory, seeds it
# (bench/Sessiond.Load.Seed), and measures with wrk, in one run on this machine:
#   (a) GET /healthz, the HTTP ceiling of the same server      (b) POST /v1/sessions
#   (c) POST /v1/sessions/{id}/events over 1,000 sessions      (d) the same on one hot session
#   (e) GET a session holding 10,000 events, native and ADK    (f) GET the first list page of a user with 100,000 sessions
# After (c) the server is killed with kill -9 and restarted, and every acknowledged append must still be there.
# Last, a separate server idles over 1,000,000 stored sessions and its RSS is read (MILLION=0 skips this step).
# The results replace the section between <!-- load:begin --> and <!-- load:end --> of docs/benchmarks.md.
#
# Settings (environment): DURATION=10s per measured run, WARMUP=3s before each, CONNECTIONS=64, THREADS=2 (wrk threads),
# APPEND_SESSIONS=1000, BIG_EVENTS=10000, LIST_SESSIONS=100000, MILLION=1, MILLION_SESSIONS=1000000, IDLE_SECONDS=10,
# OUT=docs/benchmarks.md (OUT=- prints the section instead), KEEP=1 keeps the work directory, QUIET_WAIT=300 (seconds
# to wait for other processes to leave the CPUs idle before measuring), SERVER_ARGS='...' (extra server arguments, such as
# '--Logging:LogLevel:Default=Warning --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information'; the harness finds the
# port in the Microsoft.Hosting.Lifetime "Now listening on:" line, so keep that category at Information).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=../common.sh
source bench/common.sh

# The command as typed, with every setting that differs from its default, for the results page.
command_line="bench/load/run.sh"
for setting in DURATION WARMUP CONNECTIONS THREADS APPEND_SESSIONS BIG_EVENTS LIST_SESSIONS MILLION MILLION_SESSIONS IDLE_SECONDS; do
  if [[ -n "${!setting:-}" ]]; then command_line="$setting=${!setting} $command_line"; fi
done
if [[ -n "${SERVER_ARGS:-}" ]]; then command_line="SERVER_ARGS='$SERVER_ARGS' $command_line"; fi
read -ra server_args <<<"${SERVER_ARGS:-}"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
APPEND_SESSIONS=${APPEND_SESSIONS:-1000}
BIG_EVENTS=${BIG_EVENTS:-10000}
LIST_SESSIONS=${LIST_SESSIONS:-100000}
MILLION=${MILLION:-1}
MILLION_SESSIONS=${MILLION_SESSIONS:-1000000}
IDLE_SECONDS=${IDLE_SECONDS:-10}
OUT=${OUT:-docs/benchmarks.md}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { bench_log "$@"; }
die() { log "error: $*"; exit 1; }

work=$(mktemp -d /tmp/sessiond-load.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  # wrk's raw output and the server logs of the last run stay for a closer look (bin/ is ignored by git).
  rm -rf "$root/bench/load/bin/last-run" && mkdir -p "$root/bench/load/bin/last-run"
  cp "$work"/*.txt "$work"/*.log "$root/bench/load/bin/last-run/" 2>/dev/null || true
  if [[ "${KEEP:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

# --- build ----------------------------------------------------------------------------------------------------------
step_start=$SECONDS
log "building the server and the seed tool (Release)"
bench_build_release "$root/bench/load/bin/artifacts" "$work" "$work/build.log" src/Sessiond.Server:server bench/Sessiond.Load.Seed:seed \
  || die "the build failed"
build_seconds=$((SECONDS - step_start))
revision=$(bench_revision)

seed() { dotnet "$work/seed/Sessiond.Load.Seed.dll" "$@"; }

# --- server lifecycle -------------------------------------------------------------------------------------------------
base_url=""
start_server() { # data_dir log_file
  dotnet "$work/server/sessiond.dll" --urls http://127.0.0.1:0 --data-dir "$1" "${server_args[@]}" >"$2" 2>&1 &
  server_pid=$!
  base_url=""
  for _ in $(seq 1 300); do # at most 30 s
    base_url=$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$2" | head -n 1)
    [[ -n "$base_url" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$2" >&2; die "the server exited during start"; }
    sleep 0.1
  done
  [[ -n "$base_url" ]] || { cat "$2" >&2; die "the server printed no 'Now listening on:' line within 30 s (is Microsoft.Hosting.Lifetime logging at Information?)"; }
  for _ in $(seq 1 300); do # at most 30 s
    if curl -sf "$base_url/readyz" >/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$2" >&2
  die "$base_url/readyz did not answer 200 within 30 s"
}

stop_server() { # SIGTERM, then SIGKILL after 30 s
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

crash_server() {
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

rss_mb() { awk -v key="$1:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status"; }

value_of() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

# --- wrk --------------------------------------------------------------------------------------------------------------
# Prints "requests_per_second p50_ms p99_ms errors" from wrk's --latency output; errors are non-2xx/3xx answers plus
# socket errors (connect, read, write, timeout).
parse_wrk() {
  awk '
    function ms(text,   number, unit) {
      number = text + 0; unit = text; sub(/^[0-9.]+/, "", unit)
      if (unit == "us") return number / 1000
      if (unit == "ms") return number
      if (unit == "s") return number * 1000
      if (unit == "m") return number * 60000
      return -1
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { errors += $NF }
    /Socket errors:/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) errors += $i }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors }' "$1"
}

declare -A rps p50 p99 errors conns others
# run_wrk key connections path [script [script args...]]: a warm-up run, then the measured one into $work/<key>.txt.
run_wrk() {
  local key=$1 connections=$2 path=$3; shift 3
  local threads=$THREADS script_args=()
  ((connections < threads)) && threads=$connections
  if (($# > 0)); then script_args=(-s "$1"); shift; fi
  if (($# > 0)); then script_args+=(-- "$@"); fi
  log "($key) $connections connections, $DURATION: $path"
  wrk -t"$threads" -c"$connections" -d"$WARMUP" --timeout 30s "$base_url$path" "${script_args[@]}" >/dev/null
  bench_others_start "$server_pid"
  wrk -t"$threads" -c"$connections" -d"$DURATION" --timeout 30s --latency "$base_url$path" "${script_args[@]}" >"$work/$key.txt"
  others[$key]=$(bench_others_share "$server_pid")
  read -r rps[$key] p50[$key] p99[$key] errors[$key] < <(parse_wrk "$work/$key.txt")
  conns[$key]=$connections
  log "($key) ${rps[$key]} req/s, p50 ${p50[$key]} ms, p99 ${p99[$key]} ms, errors ${errors[$key]}, other processes ${others[$key]}% CPU"
}

# --- load run ---------------------------------------------------------------------------------------------------------
bench_wait_for_quiet
busy_before=$bench_busy_before
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_others_start
# Each measured run restarts the counters; these keep the start of the whole load run.
overall_start=("$bench_busy0" "$bench_total0" "$bench_children0")
step_start=$SECONDS
start_server "$work/data" "$work/server-1.log"
log "seeding $base_url"
seed http --url "$base_url" --append-sessions "$APPEND_SESSIONS" --big-events "$BIG_EVENTS" --list-sessions "$LIST_SESSIONS" \
  >"$work/seed.txt" || die "seeding failed"
seed_seconds=$((SECONDS - step_start))
rss_after_seed=$(rss_mb VmRSS)

step_start=$SECONDS
run_wrk a "$CONNECTIONS" /healthz
run_wrk b "$CONNECTIONS" /v1/sessions bench/load/create.lua
# (c) warms up on the hot session, so the appends counted for the durability check are those of the measured run only.
log "(c) warm-up on hot-0000"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout 30s "$base_url/v1/sessions" -s bench/load/append.lua -- 1 hot- >/dev/null
log "(c) $CONNECTIONS connections, $DURATION: POST /v1/sessions/{id}/events over $APPEND_SESSIONS sessions"
bench_others_start "$server_pid"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency "$base_url/v1/sessions" \
  -s bench/load/append.lua -- "$APPEND_SESSIONS" append- >"$work/c.txt"
others[c]=$(bench_others_share "$server_pid")
read -r rps[c] p50[c] p99[c] errors[c] < <(parse_wrk "$work/c.txt")
conns[c]=$CONNECTIONS
acked=$(awk '$1 == "ACKED" { print $2 }' "$work/c.txt")
log "(c) ${rps[c]} req/s, p50 ${p50[c]} ms, p99 ${p99[c]} ms, errors ${errors[c]}, other processes ${others[c]}% CPU, acknowledged $acked"
rss_before_crash=$(rss_mb VmRSS)
hwm_before_crash=$(rss_mb VmHWM)

log "kill -9 and restart"
crash_server
start_server "$work/data" "$work/server-2.log"
seed tally --url "$base_url" --append-sessions "$APPEND_SESSIONS" >"$work/tally.txt" || die "reading the appends back failed"
found=$(value_of tally.last_seq_sum "$work/tally.txt")
if ((found >= acked)); then durable="yes"; else durable="NO"; fi
log "acknowledged $acked, found after kill -9 and restart $found: durable=$durable"

run_wrk d "$CONNECTIONS" /v1/sessions bench/load/append.lua 1 hot-
# (f) before (e): 64 concurrent reads of a 10,000-event session grow the heap far more than anything else here.
run_wrk f1 1 "/v1/sessions?appName=bench&userId=lister"
run_wrk f2 "$CONNECTIONS" "/v1/sessions?appName=bench&userId=lister"
run_wrk e1 1 /v1/sessions/big-0000
run_wrk e2 1 /apps/bench/users/reader/sessions/big-0000
run_wrk e3 "$CONNECTIONS" /v1/sessions/big-0000
run_wrk e4 "$CONNECTIONS" /apps/bench/users/reader/sessions/big-0000
sleep 2
rss_after_run=$(rss_mb VmRSS)
hwm_after_run=$(rss_mb VmHWM)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
stop_server
load_seconds=$((SECONDS - step_start))
bench_busy0=${overall_start[0]} bench_total0=${overall_start[1]} bench_children0=${overall_start[2]} bench_process0=0
others_share=$(bench_others_share)
log_lines=$(cat "$work/server-1.log" "$work/server-2.log" | wc -l)
log_kib=$(($(cat "$work/server-1.log" "$work/server-2.log" | wc -c) / 1024))

# --- 1,000,000 sessions, idle -----------------------------------------------------------------------------------------
million_line="skipped (MILLION=0)"
if [[ "$MILLION" == 1 ]]; then
  step_start=$SECONDS
  log "storing $MILLION_SESSIONS sessions in process"
  seed store --data-dir "$work/million" --sessions "$MILLION_SESSIONS" >"$work/million.txt" || die "storing sessions failed"
  store_seconds=$(value_of store.seconds "$work/million.txt")
  db_mb=$(($(value_of store.db_bytes "$work/million.txt") / 1024 / 1024))
  start_server "$work/million" "$work/server-3.log"
  rss_started=$(rss_mb VmRSS)
  curl -sf "$base_url/v1/sessions?appName=bench&userId=user-00042" >/dev/null || die "listing a user's sessions failed"
  curl -sf "$base_url/v1/sessions" >/dev/null || die "listing all sessions failed"
  log "idling for $IDLE_SECONDS s"
  sleep "$IDLE_SECONDS"
  rss_idle=$(rss_mb VmRSS)
  stop_server
  million_seconds=$((SECONDS - step_start))
  if ((rss_idle < 200)); then million_met="met"; else million_met="NOT met"; fi
  log "idle RSS over $MILLION_SESSIONS sessions: $rss_idle MB ($million_met)"
  million_line="$rss_idle MB after one user's list page, the first page of all sessions and ${IDLE_SECONDS} s idle ($rss_started MB just after start); $MILLION_SESSIONS sessions of 10,000 users stored in process in ${store_seconds} s, a ${db_mb} MB database"
fi

# --- report -----------------------------------------------------------------------------------------------------------
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.0f%%", 100 * x / y; else print "n/a" }'; }
met() { if [[ "$1" == 1 ]]; then echo "met"; else echo "**NOT met**"; fi; }
c_met=$(awk -v c="${rps[c]}" -v a="${rps[a]}" 'BEGIN { ok = (2 * c >= a); print ok ? 1 : 0 }')
e_met=$(awk -v x="${p99[e1]}" -v y="${p99[e2]}" 'BEGIN { ok = (x <= 50 && y <= 50); print ok ? 1 : 0 }')
f_met=$(awk -v x="${p99[f1]}" 'BEGIN { ok = (x <= 5); print ok ? 1 : 0 }')
row() { # key scenario request
  printf '| %s | `%s` | %s | %s | %s | %s | %s | %s | %s%% |\n' "$2" "$3" "${conns[$1]}" "${rps[$1]}" "${p50[$1]}" "${p99[$1]}" \
    "${errors[$1]}" "$(ratio "${rps[$1]}" "${rps[a]}")" "${others[$1]}"
}

section=$(mktemp "$work/section.XXXXXX")
{
  echo "## HTTP load"
  echo
  echo '```sh'
  echo "$command_line"
  echo '```'
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(bench_machine), $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }');"
  echo "server built in Release from $revision."
  echo "wrk runs on the same $(nproc) cores as the server, over loopback, with $THREADS threads; every measured run lasts $DURATION after a $WARMUP warm-up."
  echo "Other processes kept the CPUs ${busy_before}% busy just before the run and took ${others_share}% of the machine's CPU time during"
  echo "seeding and the load runs (load average ${load_before} before, ${load_after} after); figures taken beside other work are low."
  echo "Latencies are in milliseconds. \"of (a)\" is each figure's peer in this same run: its share of (a), the HTTP ceiling."
  echo "\"other load\" is the share of the machine's CPU time that processes other than the server and wrk took during that run."
  echo
  echo "| scenario | request | connections | requests/s | p50 ms | p99 ms | errors | of (a) | other load |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  row a "(a) no-op, the HTTP ceiling" "GET /healthz"
  row b "(b) create session" "POST /v1/sessions"
  row c "(c) append 1 event, $APPEND_SESSIONS sessions" "POST /v1/sessions/{id}/events"
  row d "(d) append 1 event, one hot session" "POST /v1/sessions/hot-0000/events"
  row e1 "(e) get session, $BIG_EVENTS events, native" "GET /v1/sessions/big-0000"
  row e2 "(e) get session, $BIG_EVENTS events, ADK" "GET /apps/bench/users/reader/sessions/big-0000"
  row e3 "(e) get session, $BIG_EVENTS events, native" "GET /v1/sessions/big-0000"
  row e4 "(e) get session, $BIG_EVENTS events, ADK" "GET /apps/bench/users/reader/sessions/big-0000"
  row f1 "(f) first list page of $LIST_SESSIONS sessions" "GET /v1/sessions?appName=bench&userId=lister"
  row f2 "(f) first list page of $LIST_SESSIONS sessions" "GET /v1/sessions?appName=bench&userId=lister"
  echo
  echo "Targets:"
  echo
  echo "- (c) at least half of (a): ${rps[c]} vs ${rps[a]} requests/s, $(ratio "${rps[c]}" "${rps[a]}") of (a): $(met "$c_met")."
  echo "- Every acknowledged append of (c) durable: acknowledged $acked, found after kill -9 and restart $found: $([[ $durable == yes ]] && echo met || echo '**NOT met**')."
  echo "  (Appends still in flight when wrk stopped may be committed without being acknowledged, so found may exceed acknowledged.)"
  echo "- (e) p99 ≤ 50 ms, one connection: native ${p99[e1]} ms, ADK ${p99[e2]} ms: $(met "$e_met")."
  echo "- (f) p99 ≤ 5 ms, one connection: ${p99[f1]} ms: $(met "$f_met")."
  if [[ "$MILLION" == 1 ]]; then
    echo "- Idle under 200 MB RSS with $MILLION_SESSIONS sessions stored: $million_line: $million_met."
  else
    echo "- Idle RSS with 1,000,000 sessions stored: $million_line."
  fi
  echo
  echo "Server memory during the load run: RSS $rss_after_seed MB after seeding, $rss_before_crash MB after (a) to (c)"
  echo "(peak $hwm_before_crash MB), $rss_after_run MB after (d), (f) and (e) in the restarted server (peak $hwm_after_run MB)."
  echo "The server wrote $log_lines lines ($log_kib KiB) to its console during seeding and the load runs."
  echo "Seeded over HTTP in $(value_of seed.seconds "$work/seed.txt") s: $APPEND_SESSIONS + 1 empty sessions, $BIG_EVENTS events in batches of 500"
  echo "($(value_of seed.big_seconds "$work/seed.txt") s), $LIST_SESSIONS sessions of one user ($(value_of seed.list_seconds "$work/seed.txt") s)."
  echo "A read of big-0000 is $(($(value_of check.big_native_bytes "$work/seed.txt") / 1024)) KiB native and $(($(value_of check.big_adk_bytes "$work/seed.txt") / 1024)) KiB ADK;"
  echo "the list page is $(($(value_of check.list_page_bytes "$work/seed.txt") / 1024)) KiB."
  echo "Steps: build ${build_seconds} s, seed ${seed_seconds} s, load runs ${load_seconds} s$([[ "$MILLION" == 1 ]] && echo ", idle step ($MILLION_SESSIONS sessions) ${million_seconds} s")."
} >"$section"

if [[ "$OUT" == "-" ]]; then
  cat "$section"
else
  bench_replace_section load "$OUT" "$section"
  log "wrote $OUT"
fi

[[ "$durable" == yes ]] || die "acknowledged appends were lost: acknowledged $acked, found $found"
