#!/usr/bin/env bash
# The SSE stream benchmarks, in one command:   bench/streams/run.sh
#
# Builds the server and the load client (bench/Sessiond.Load.Streams) in Release, and measures, in one run on this machine,
# with the client on the same cores, over loopback:
#   (1) append-to-delivery latency, 1 subscriber, 50 appends/s    peer: GET /healthz round trip at the same pace
#   (2) 5,000 subscribers on one session, 10 appends/s            every frame once and in order; delivery latency
#   (3) server memory per idle stream, 10,000 streams             peer: per idle keep-alive HTTP/1.1 connection
#   (4) replay of 100,000 events to a fresh subscriber            peer: GET /v1/sessions/{id}/events pages of the same events
# Each scenario (and each attempt, see ATTEMPTS) gets a fresh server on 127.0.0.1, on a port the OS picks, over a fresh
# temporary --data-dir, stopped by its PID. The results replace the section between <!-- streams:begin --> and
# <!-- streams:end --> of docs/benchmarks.md.
#
# Settings (environment): LATENCY_SECONDS=10, LATENCY_INTERVAL_MS=20, SUBSCRIBERS=5000, FANOUT_RATE=10 (appends/s),
# FANOUT_SECONDS=20, IDLE_STREAMS=10000, IDLE_SESSIONS=1000, REPLAY_EVENTS=100000, REPLAY_RUNS=5, ATTEMPTS=3 and
# OTHERS_MAX=15 (a scenario during which other processes took more than OTHERS_MAX% of the CPU time is measured again, at
# most ATTEMPTS times in all), SERVER_ARGS (extra arguments for the server, e.g.
# '--Logging:LogLevel:Default=Warning --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information': the script reads the
# port from the "Now listening on:" line),
# OUT=docs/benchmarks.md (OUT=- prints the section instead), KEEP=1 keeps the work directory, QUIET_WAIT=300 (seconds to
# wait for other processes to leave the CPUs idle before measuring).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=../common.sh
source bench/common.sh

# The command as typed, with every setting that differs from its default, for the results page.
command_line="bench/streams/run.sh"
for setting in LATENCY_SECONDS LATENCY_INTERVAL_MS SUBSCRIBERS FANOUT_RATE FANOUT_SECONDS IDLE_STREAMS IDLE_SESSIONS \
  REPLAY_EVENTS REPLAY_RUNS ATTEMPTS OTHERS_MAX SERVER_ARGS; do
  if [[ -n "${!setting:-}" ]]; then command_line="$setting='${!setting}' $command_line"; fi
done

LATENCY_SECONDS=${LATENCY_SECONDS:-10}
LATENCY_INTERVAL_MS=${LATENCY_INTERVAL_MS:-20}
SUBSCRIBERS=${SUBSCRIBERS:-5000}
FANOUT_RATE=${FANOUT_RATE:-10}
FANOUT_SECONDS=${FANOUT_SECONDS:-20}
IDLE_STREAMS=${IDLE_STREAMS:-10000}
IDLE_SESSIONS=${IDLE_SESSIONS:-1000}
REPLAY_EVENTS=${REPLAY_EVENTS:-100000}
REPLAY_RUNS=${REPLAY_RUNS:-5}
ATTEMPTS=${ATTEMPTS:-3}
OTHERS_MAX=${OTHERS_MAX:-15}
SERVER_ARGS=${SERVER_ARGS:-}
OUT=${OUT:-docs/benchmarks.md}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { bench_log "$@"; }
die() { log "error: $*"; exit 1; }

work=$(mktemp -d /tmp/sessiond-streams.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- file descriptors -------------------------------------------------------------------------------------------------
# Every stream is one connection, so the client and the server (both children of this script) each hold one descriptor
# per stream. Raise the soft limit as far as allowed; 65536 when the hard limit permits.
most_connections=$((IDLE_STREAMS > SUBSCRIBERS ? IDLE_STREAMS : SUBSCRIBERS))
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [[ "$fd_limit" != unlimited ]] && ((fd_limit < most_connections + 1000)); then
  die "the open-file limit is $fd_limit (hard limit $(ulimit -Hn)); $((most_connections + 1000)) are needed for $most_connections streams"
fi

# --- build ----------------------------------------------------------------------------------------------------------
step_start=$SECONDS
log "building the server and the load client (Release)"
bench_build_release "$root/bench/streams/bin/artifacts" "$work" "$work/build.log" src/Sessiond.Server:server bench/Sessiond.Load.Streams:client \
  || die "the build failed"
build_seconds=$((SECONDS - step_start))
revision=$(bench_revision)

client() { dotnet "$work/client/Sessiond.Load.Streams.dll" "$@"; }

# --- server lifecycle -------------------------------------------------------------------------------------------------
base_url=""
start_server() { # name: data in $work/<name>, log in $work/<name>.log
  local data="$work/$1" server_log="$work/$1.log"
  # shellcheck disable=SC2086 # SERVER_ARGS is a list of arguments
  dotnet "$work/server/sessiond.dll" --urls http://127.0.0.1:0 --data-dir "$data" $SERVER_ARGS >"$server_log" 2>&1 &
  server_pid=$!
  base_url=""
  for _ in $(seq 1 300); do # at most 30 s
    base_url=$(sed -n 's/.*Now listening on: \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$server_log" | head -n 1)
    [[ -n "$base_url" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; die "the server exited during start"; }
    sleep 0.1
  done
  [[ -n "$base_url" ]] || { cat "$server_log" >&2; die "the server printed no 'Now listening on:' line within 30 s"; }
  for _ in $(seq 1 300); do # at most 30 s
    if curl -sf "$base_url/readyz" >/dev/null; then
      log "server $1 (pid $server_pid) ready at $base_url"
      return 0
    fi
    sleep 0.1
  done
  cat "$server_log" >&2
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

declare -A others attempt_used
# measure key attempts command [args...]: runs the load client's command on a fresh server into $work/<key>.txt. When other
# processes took more than OTHERS_MAX% of the machine's CPU time meanwhile, it waits for quiet and measures again, at most
# <attempts> times in all, and keeps the attempt they disturbed least.
measure() {
  local key=$1 attempts=$2 command=$3; shift 3
  local attempt share best=101
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    ((attempt == 1)) || bench_wait_for_quiet
    start_server "$key-$attempt"
    log "($key) attempt $attempt: $command $*"
    bench_others_start "$server_pid"
    client "$command" --url "$base_url" --server-pid "$server_pid" "$@" >"$work/$key-$attempt.txt" \
      || die "the load client failed in scenario ($key)"
    share=$(bench_others_share "$server_pid")
    stop_server
    if ((share < best)); then
      best=$share
      attempt_used[$key]=$attempt
      cp "$work/$key-$attempt.txt" "$work/$key.txt"
    fi
    log "($key) attempt $attempt done; other processes took ${share}% of the CPU time"
    ((share <= OTHERS_MAX)) && break
  done
  others[$key]=$best
}

# value key scenario: a key=value line of the scenario's kept attempt.
value() { sed -n "s/^$1=//p" "$work/$2.txt" | tail -n 1; }

# --- runs -------------------------------------------------------------------------------------------------------------
bench_wait_for_quiet
busy_before=$bench_busy_before
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_others_start
# Each scenario restarts the measurement for its own figure; keep the whole run's starting point for the total.
run_start=("$bench_busy0" "$bench_total0" "$bench_children0")
step_start=$SECONDS

measure 1 "$ATTEMPTS" latency --seconds "$LATENCY_SECONDS" --interval-ms "$LATENCY_INTERVAL_MS"
measure 2 "$ATTEMPTS" fanout --subscribers "$SUBSCRIBERS" --rate "$FANOUT_RATE" --seconds "$FANOUT_SECONDS"
# Memory does not depend on CPU time taken by others, so (3) and its peer run once.
measure 3 1 idle --kind stream --count "$IDLE_STREAMS" --sessions "$IDLE_SESSIONS"
measure 3p 1 idle --kind keepalive --count "$IDLE_STREAMS"
measure 4 "$ATTEMPTS" replay --events "$REPLAY_EVENTS" --runs "$REPLAY_RUNS"

run_seconds=$((SECONDS - step_start))
read -r bench_busy0 bench_total0 bench_children0 <<<"${run_start[*]}"
bench_process0=0
others_share=$(bench_others_share)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -----------------------------------------------------------------------------------------------------------
met() { if [[ "$1" == 1 ]]; then echo "met"; else echo "**NOT met**"; fi; }
check() { awk "BEGIN { print ($1) ? 1 : 0 }"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; }
percent() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.0f%%", 100 * x / y; else print "n/a" }'; }
other_load() { # key: the share others took, and which attempt was kept when there were several
  if [[ "${attempt_used[$1]}" == 1 ]]; then echo "${others[$1]}%"; else echo "${others[$1]}% (attempt ${attempt_used[$1]})"; fi
}

latency_p99=$(value latency.p99_ms 1)
latency_met=$(check "$latency_p99 <= 5 && $(value latency.missing 1) == 0 && $(value latency.duplicates 1) == 0")
fanout_p99=$(value fanout.delivery.p99_ms 2)
fanout_missing=$(value fanout.missing 2)
fanout_duplicates=$(value fanout.duplicates 2)
fanout_connected=$(value fanout.connected 2)
fanout_met=$(check "$fanout_p99 <= 250 && $fanout_missing == 0 && $fanout_duplicates == 0 && $fanout_connected == $SUBSCRIBERS")
idle_per=$(value idle.kb_per_connection 3)
idle_opened=$(value idle.opened 3)
idle_met=$(check "$idle_per <= 50 && $idle_opened == $IDLE_STREAMS && $(value idle.ended_early 3) == 0")
replay_rate=$(value replay.stream_events_per_second 4)
replay_met=$(check "$replay_rate >= 200000")
replay_mb() { awk -v b="$(value "replay.$1_bytes" 4)" -v s="$(value "replay.$1_seconds" 4)" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }

section=$(mktemp "$work/section.XXXXXX")
{
  echo "## SSE streams"
  echo
  echo '```sh'
  echo "$command_line"
  echo '```'
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(bench_machine); server built in Release from $revision."
  echo "The client runs on the same $(nproc) cores as the server, over loopback; open-file limit $fd_limit."
  echo "Other processes kept the CPUs ${busy_before}% busy just before the run and took ${others_share}% of the machine's CPU time"
  echo "during it (load average ${load_before} before, ${load_after} after). \"other load\" is their share during the scenario's kept attempt;"
  echo "figures taken beside other work are low."
  echo
  echo "| scenario | figure | target | result | peer, same run | other load |"
  echo "|---|---|---|---|---|---:|"
  echo "| (1) 1 subscriber, one append every $LATENCY_INTERVAL_MS ms for $LATENCY_SECONDS s | append-to-delivery p50 $(value latency.p50_ms 1) ms, **p99 $latency_p99 ms**, max $(value latency.max_ms 1) ms ($(value latency.samples 1) frames, $(value latency.missing 1) missing, $(value latency.duplicates 1) repeated) | p99 ≤ 5 ms | $(met "$latency_met") | \`GET /healthz\` at the same pace on one connection: p50 $(value healthz.p50_ms 1) ms, p99 $(value healthz.p99_ms 1) ms; the append's own POST: p50 $(value latency.ack.p50_ms 1) ms, p99 $(value latency.ack.p99_ms 1) ms | $(other_load 1) |"
  echo "| (2) $SUBSCRIBERS subscribers on one session, $FANOUT_RATE appends/s for $FANOUT_SECONDS s | $(value fanout.frames_received 2) of $(value fanout.frames_expected 2) frames, **$fanout_missing missing, $fanout_duplicates repeated**; delivery p50 $(value fanout.delivery.p50_ms 2) ms, **p99 $fanout_p99 ms**, max $(value fanout.delivery.max_ms 2) ms | every frame, p99 ≤ 250 ms | $(met "$fanout_met") | (1), one subscriber: p99 $latency_p99 ms; per event, the last of its $SUBSCRIBERS deliveries: p50 $(value fanout.slowest.p50_ms 2) ms, p99 $(value fanout.slowest.p99_ms 2) ms; the POST: p50 $(value fanout.ack.p50_ms 2) ms, p99 $(value fanout.ack.p99_ms 2) ms | $(other_load 2) |"
  echo "| (3) $IDLE_STREAMS idle streams over $IDLE_SESSIONS sessions | **$idle_per KB** of server RSS per stream (+$(mb $(($(value idle.rss_after_kb 3) - $(value idle.rss_before_kb 3)))) MB) | ≤ 50 KB | $(met "$idle_met") | $IDLE_STREAMS idle keep-alive HTTP/1.1 connections, one \`GET /healthz\` each: $(value idle.kb_per_connection 3p) KB each (+$(mb $(($(value idle.rss_after_kb 3p) - $(value idle.rss_before_kb 3p)))) MB) | $(other_load 3), $(other_load 3p) |"
  echo "| (4) replay of $REPLAY_EVENTS events to a fresh subscriber (\`?after=0\`) | **$replay_rate events/s**, $(replay_mb stream) MB/s (median of $REPLAY_RUNS; $(value replay.stream_worst_events_per_second 4) to $(value replay.stream_best_events_per_second 4)) | ≥ 200000 events/s | $(met "$replay_met") | \`GET /v1/sessions/{id}/events\` in pages of 10000, the same events: $(value replay.get_events_per_second 4) events/s, $(replay_mb get) MB/s ($(value replay.get_worst_events_per_second 4) to $(value replay.get_best_events_per_second 4)); the stream reaches $(percent "$replay_rate" "$(value replay.get_events_per_second 4)") of it | $(other_load 4) |"
  echo
  echo "Targets:"
  echo
  echo "- Append-to-delivery p99 ≤ 5 ms with 1 subscriber at a low rate ($((1000 / LATENCY_INTERVAL_MS)) appends/s): $latency_p99 ms: $(met "$latency_met")."
  echo "- $SUBSCRIBERS subscribers, $FANOUT_RATE events/s: every frame delivered ($fanout_missing missing, $fanout_duplicates repeated, $fanout_connected of $SUBSCRIBERS streams open) and p99 ≤ 250 ms ($fanout_p99 ms): $(met "$fanout_met")."
  echo "- $IDLE_STREAMS idle streams at ≤ 50 KB of server memory each: $idle_per KB ($idle_opened open, $(value idle.ended_early 3) closed early): $(met "$idle_met")."
  echo "- Replay of $REPLAY_EVENTS events at ≥ 200000 events/s: $replay_rate events/s: $(met "$replay_met")."
  echo
  echo "Details:"
  echo
  echo "- (1) $(value latency.samples 1) measured appends after 50 warm-up ones, over $(value latency.append_seconds 1) s; the server used $(value latency.server_cores 1) cores meanwhile."
  echo "  The six slowest deliveries, by the append's seq: $(value latency.slowest 1)."
  echo "- (2) The $SUBSCRIBERS streams opened in $(value fanout.open_seconds 2) s (each counted at its first \`status\` frame, at most 50"
  echo "  connecting at once); $(value fanout.failed_streams 2) failed (first error: $(value fanout.first_error 2)). From the first append to the last delivery"
  echo "  the server used $(value fanout.server_cores 2) cores and the client $(value fanout.client_cores 2). Server RSS $(mb "$(value fanout.rss_open_kb 2)") MB with the streams open, $(mb "$(value fanout.rss_after_kb 2)") MB after the appends."
  echo "- (3) Server RSS $(mb "$(value idle.rss_before_kb 3)") MB before (after creating $IDLE_SESSIONS sessions and opening and closing 200 streams; steady: $(value idle.rss_before_steady 3))"
  echo "  and $(mb "$(value idle.rss_after_kb 3)") MB with the streams open (steady to 1 MB over 5 s: $(value idle.rss_after_steady 3); peak $(mb "$(value idle.peak_kb 3)") MB). Opening them took"
  echo "  $(value idle.open_seconds 3) s; server threads $(value idle.threads_before 3) before, $(value idle.threads_after 3) after. The peer's server: $(mb "$(value idle.rss_before_kb 3p)") MB before, $(mb "$(value idle.rss_after_kb 3p)") MB after,"
  echo "  $(value idle.opened 3p) connections open, $(value idle.ended_early 3p) closed early. RSS includes garbage the server's GC has not collected yet."
  echo "- (4) $REPLAY_EVENTS events of about 300 bytes of JSON, seeded in $(value replay.seed_seconds 4) s (1000 per POST). A replay is"
  echo "  $(mb $(($(value replay.stream_bytes 4) / 1024))) MB of frames, the $(value replay.get_pages 4) pages $(mb $(($(value replay.get_bytes 4) / 1024))) MB; each side ran once to warm up, then $REPLAY_RUNS times, alternating."
  echo "  Neither side parses the events' JSON."
  echo "- Steps: build ${build_seconds} s, scenarios ${run_seconds} s."
} >"$section"

if [[ "$OUT" == "-" ]]; then
  cat "$section"
else
  bench_replace_section streams "$OUT" "$section"
  log "wrote $OUT"
fi
