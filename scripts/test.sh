#!/usr/bin/env bash
# The whole test suite, from a fresh clone: builds everything, runs every test project, and prints one
# "N passed, N failed" line. Anything the tests need is installed and started here and stopped on exit:
# a throwaway PostgreSQL cluster on a free loopback port, named to the tests by SESSIOND_TEST_POSTGRES.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
pg_state=""
pg_pid=""

cleanup() {
    if [[ -n "$pg_pid" ]] && kill -0 "$pg_pid" 2>/dev/null; then
        kill -INT "$pg_pid"                      # fast shutdown, by the postmaster's pid
        for _ in $(seq 1 300); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    [[ -n "$pg_state" ]] && rm -rf "$pg_state"
    rm -f "$log"
}
trap cleanup EXIT

# PostgreSQL's server binaries: Debian's package, installed when missing (CI runs as root with apt reachable).
find_pgbin() { { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -1; }

start_postgres() {
    local pgbin; pgbin=$(find_pgbin)
    if [[ -z "$pgbin" || ! -x "$pgbin/initdb" ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            echo "PostgreSQL is not installed; run as root (or: sudo apt-get install -y postgresql) so the tests can use it." >&2
            exit 1
        fi
        echo "Installing PostgreSQL (apt-get install postgresql)..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        pgbin=$(find_pgbin)
    fi

    # PostgreSQL refuses to run as root, so root runs it as the package's postgres user; every parent of the state
    # directory must be traversable by that user (/tmp is).
    local as=()
    pg_state=$(mktemp -d /tmp/sessiond-pg.XXXXXX)
    chmod 755 "$pg_state"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$pg_state"
        as=(runuser -u postgres --)
    fi

    "${as[@]}" "$pgbin/initdb" -D "$pg_state/data" -U postgres --auth=trust -E UTF8 --no-sync >"$pg_state/initdb.log" 2>&1 \
        || { cat "$pg_state/initdb.log" >&2; exit 1; }

    # A free loopback port: try random ones until the server starts on one.
    local port started=""
    for _ in $(seq 1 10); do
        port=$((20000 + RANDOM % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        # Durability settings off: the cluster is thrown away after the run.
        if "${as[@]}" "$pgbin/pg_ctl" -D "$pg_state/data" -l "$pg_state/server.log" -w -t 30 -s \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_state -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            started=1
            break
        fi
    done
    if [[ -z "$started" ]]; then
        echo "PostgreSQL did not start; its log:" >&2
        cat "$pg_state/server.log" >&2 || true
        exit 1
    fi

    pg_pid=$(head -1 "$pg_state/data/postmaster.pid")
    "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c "CREATE DATABASE sessiond" >/dev/null
    export SESSIOND_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=sessiond"
}

# A connection string given from outside (an existing server) is used as it is.
if [[ -z "${SESSIOND_TEST_POSTGRES:-}" ]]; then
    start_postgres
fi

# Chromium for the console's browser tests (Playwright drives Debian's build; its own download cannot work here).
if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
        || echo "Could not install Chromium: the browser tests will skip (under CI=true they fail)." >&2
fi

dotnet build Sessiond.slnx -c Release -nologo -v:q
status=0
dotnet test Sessiond.slnx -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?

# VSTest prints one "Passed!/Failed! - Failed: F, Passed: P, Skipped: S, Total: T" line per test project.
awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { f += $2; p += $4; s += $6 }
    END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
