#!/usr/bin/env bash
# What a request costs the kernel, kv against redis-server: syscalls by kind,
# io_uring_enter, membarrier, and reschedule / function-call IPIs, per
# request, at -P 1 and -P 16 (GET, 50 clients). The server runs on CPU 0,
# redis-benchmark on CPU 1. Needs perf (tracepoints), redis-server and
# redis-benchmark: `bash examples/kv-syscalls-per-request.sh`.
# KV=path/to/kv measures that build instead of this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
kv=${KV:-./target/release/kv}
if [ -z "${KV:-}" ]; then cargo build --release -q -p whirl-examples --bin kv; fi
port=6390
ipis() { awk '/^ *(RES|CAL):/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print $1, n }' /proc/interrupts; }
run() { # server, pipeline
  case $1 in
    redis-server) taskset -c 0 redis-server --port $port --save "" --appendonly no >/dev/null & ;;
    kv-1-shard) "$kv" --port $port --shards 1 >/dev/null & ;;
  esac
  local pid=$!
  for _ in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.05; done
  local n=$(( $2 == 1 ? 200000 : 2000000 ))
  local before; before=$(ipis)
  perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o /tmp/kv-syscalls.$$ -- \
    taskset -c 1 redis-benchmark -p $port -t get -P "$2" -c 50 -n $n -q >/dev/null 2>&1 &
  local perf=$!
  sleep 0.3
  wait $perf || true
  local after; after=$(ipis)
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  awk -F, -v n=$n -v server="$1" -v p="$2" '
    $1 + 0 > 0 { sub("syscalls:sys_enter_", "", $3); total += $1; c[$3] = $1 }
    END {
      line = sprintf("| %s | -P %s | %.2f |", server, p, total / n)
      split("recvfrom sendto read write epoll_wait io_uring_enter membarrier futex", k, " ")
      for (i = 1; i <= 8; i++) line = line sprintf(" %.3f |", c[k[i]] / n)
      printf "%s", line
    }' /tmp/kv-syscalls.$$
  paste <(echo "$before") <(echo "$after") | awk -v n=$n '{ d[$1] = $4 - $2 } END { printf " %.3f | %.3f |\n", d["RES:"] / n, d["CAL:"] / n }'
  rm -f /tmp/kv-syscalls.$$
}
echo "machine: $(nproc) CPUs, $(uname -sr); $(git describe --always --dirty); $(date -u '+%F %H:%M UTC')"
echo
echo "| server | load | syscalls | recvfrom | sendto | read | write | epoll_wait | io_uring_enter | membarrier | futex | resched IPIs | call IPIs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in 1 16; do
  for server in redis-server kv-1-shard; do run $server $p; done
done
