#!/usr/bin/env bash
# The kv example against redis-server on this machine, same client, same
# flags, in one run: `bash examples/compare-kv-with-redis.sh [ROUNDS]`.
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
# CLIENT_CPUS=1 pins redis-benchmark to CPU 1 (`taskset -c`); the servers
# stay where they run (kv pins shard i to CPU i; redis-server is unpinned).
# SERVERS="kv-1-shard kv-2-shards" picks the servers (default: all three).
# KV=path/to/kv runs that build of kv (an A/B of two commits) instead of
# building this checkout's.
# Each round runs every server once per load, servers interleaved; the table
# gives each server's median round (requests per second) with that round's
# p50 and p99 as redis-benchmark reports them.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
kv=${KV:-./target/release/kv}
if [ -z "${KV:-}" ]; then cargo build --release -q -p whirl-examples --bin kv; fi
[ -x "$kv" ] || { echo "no kv binary at '$kv'" >&2; exit 1; }
out=$(mktemp -d)
loads=("-P 16 -c 50 -n 400000" "-P 1 -c 50 -n 100000")
read -r -a servers <<< "${SERVERS:-redis-server kv-1-shard kv-2-shards}"
for server in "${servers[@]}"; do
  case $server in redis-server | kv-1-shard | kv-2-shards) ;;
    *) echo "unknown server '$server': use redis-server, kv-1-shard, kv-2-shards" >&2; exit 1 ;;
  esac
done
if [ ${#servers[@]} -eq 0 ]; then echo "SERVERS names no server" >&2; exit 1; fi
client=()
if [ -n "${CLIENT_CPUS:-}" ]; then
  taskset -c "$CLIENT_CPUS" true || { echo "bad CLIENT_CPUS '$CLIENT_CPUS'" >&2; exit 1; }
  client=(taskset -c "$CLIENT_CPUS")
fi
tests=set,get,incr,mset

# A port per server, so one's closing never delays the next one's start.
port_of() { case $1 in redis-server) echo 6391 ;; kv-1-shard) echo 6392 ;; *) echo 6393 ;; esac; }
start() { # name
  local port; port=$(port_of "$1")
  case $1 in
    redis-server) redis-server --port "$port" --save "" --appendonly no --daemonize yes >/dev/null ;;
    kv-1-shard) "$kv" --port "$port" --shards 1 >/dev/null & ;;
    kv-2-shards) "$kv" --port "$port" --shards 2 >/dev/null & ;;
  esac
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$1 did not start" >&2; exit 1
}
stop() { # name
  local port; port=$(port_of "$1")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 || return 0; sleep 0.05; done
}

for round in $(seq 1 "$rounds"); do
  for server in "${servers[@]}"; do
    start "$server"
    for i in "${!loads[@]}"; do
      # shellcheck disable=SC2086
      "${client[@]}" redis-benchmark -p "$(port_of "$server")" -t "$tests" ${loads[$i]} --csv 2>/dev/null | tail -n +2 |
        sed "s/^/$server,$i,$round,/" >> "$out/all.csv"
    done
    stop "$server"
  done
done

echo "machine: $(nproc) CPUs, $(uname -sr); $(redis-server -v | cut -d' ' -f3); $(git describe --always --dirty); $(date -u '+%F %H:%M UTC'); client on CPUs ${CLIENT_CPUS:-any}"
for i in "${!loads[@]}"; do
  echo
  echo "redis-benchmark -t $tests ${loads[$i]} (median of $rounds rounds)"
  echo
  echo "| command | server | requests/s | p50 ms | p99 ms | ÷ ${servers[0]} |"
  echo "|---|---|---:|---:|---:|---:|"
  # fields: server, load, round, "test", "rps", avg, min, p50, p95, p99, max
  tr -d '"' < "$out/all.csv" | awk -F, -v load="$i" -v names="${servers[*]}" '
    $2 == load { key = $4 SUBSEP $1; n[key]++; row[key, n[key]] = $5 " " $8 " " $10; tests[$4] = 1 }
    END {
      count = split(names, order, " ")
      for (t in tests) {
        for (s = 1; s <= count; s++) {
          key = t SUBSEP order[s]; m = n[key]
          # the median round by requests per second
          for (a = 1; a <= m; a++) { split(row[key, a], f, " "); rps[a] = f[1] + 0; line[a] = row[key, a] }
          for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (rps[b] < rps[a]) {
            x = rps[a]; rps[a] = rps[b]; rps[b] = x; y = line[a]; line[a] = line[b]; line[b] = y }
          split(line[int((m + 1) / 2)], f, " ")
          if (s == 1) base = f[1]
          printf "| %s | %s | %.0f | %s | %s | %.2f× |\n", t, order[s], f[1], f[2], f[3], f[1] / base
        }
      }
    }' | sort -t'|' -k2,2 -s
done
rm -rf "$out"
