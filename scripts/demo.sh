#!/usr/bin/env bash
# `make demo`: the whole system on embedded defaults, on loopback only:
#   SQLite (var/minhu.db) with the seeded demo city, a Redis it starts when none answers,
#   the simulated PBX (AMI on 127.0.0.1:15038; a citizen of the demo city calls every 45 s),
#   the IVR's FastAGI server, the revisit dialer, and the API with the agent desktop.
# Ctrl-C stops everything. Idempotent: a second run reuses the database.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

export MINHU_ENVIRONMENT="${MINHU_ENVIRONMENT:-demo}"
export MINHU_DATABASE_URL="${MINHU_DATABASE_URL:-sqlite+aiosqlite:///./var/minhu.db}"
export MINHU_HOST="${MINHU_HOST:-127.0.0.1}"
export MINHU_PORT="${MINHU_PORT:-8000}"
export MINHU_REDIS_URL="${MINHU_REDIS_URL:-redis://127.0.0.1:6379/0}"
# The simulated PBX: its AMI account is the simulator's own (not a secret of any real PBX).
export MINHU_AMI_HOST=127.0.0.1
export MINHU_AMI_PORT="${MINHU_DEMO_AMI_PORT:-15038}"
export MINHU_AMI_USERNAME=hotline
export MINHU_AMI_SECRET=hotline-secret
export MINHU_IVR_HOST=127.0.0.1
export MINHU_IVR_PORT="${MINHU_DEMO_AGI_PORT:-14573}"

if ! (command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1); then
  if ! command -v redis-server >/dev/null 2>&1; then
    sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_="sudo"
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server \
      || { $sudo_ apt-get update -q && $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; }
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$PWD/var" --logfile "$PWD/var/redis.log"
  fi
fi

py=.venv/bin/python
minhu=.venv/bin/minhu
$minhu db upgrade
if ! $minhu seed-demo; then
  echo "演示数据写入失败；删除 var/minhu.db 后重试 / seeding failed: remove var/minhu.db and try again" >&2
  exit 1
fi

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

$py -m ivr >var/demo-ivr.log 2>&1 &
pids+=($!)
$py -m pbx.simulator --scenario demo --ami-port "$MINHU_AMI_PORT" \
  --agi-server "127.0.0.1:$MINHU_IVR_PORT" >var/demo-pbx.log 2>&1 &
pids+=($!)
$minhu dialer run >var/demo-dialer.log 2>&1 &
pids+=($!)

base="http://${MINHU_HOST}:${MINHU_PORT}"
cat <<INFO

民呼必应 Minhu 演示 / demo — 模拟交换机每 45 秒有一位市民来电 (a simulated citizen calls every 45 s)
  坐席桌面 / agent desktop:      ${base}/desktop          登录 agent / minhu-demo-2026，签入话机 PJSIP/1001
  班长监控 / supervisor view:    ${base}/desktop/supervisor   登录 supervisor / minhu-demo-2026
  接口文档 / API docs:           ${base}/docs
  日志 / logs: var/demo-*.log     Ctrl-C 结束 / stops everything

INFO
$minhu serve
