#!/usr/bin/env bash
# `make demo`: the API on SQLite with a seeded demo city, on loopback. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

export MINHU_ENVIRONMENT="${MINHU_ENVIRONMENT:-demo}"
export MINHU_DATABASE_URL="${MINHU_DATABASE_URL:-sqlite+aiosqlite:///./var/minhu.db}"
export MINHU_HOST="${MINHU_HOST:-127.0.0.1}"
export MINHU_PORT="${MINHU_PORT:-8000}"

# Redis is not needed by this part of the system yet; start one on loopback if none answers.
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$PWD/var" --logfile "$PWD/var/redis.log" >/dev/null 2>&1 || true
  fi
fi

minhu=.venv/bin/minhu
$minhu db upgrade
if ! $minhu seed-demo; then
  echo "演示数据写入失败；删除 var/minhu.db 后重试 / seeding failed: remove var/minhu.db and try again" >&2
  exit 1
fi
echo
echo "坐席桌面接口文档 / agent desktop API docs: http://${MINHU_HOST}:${MINHU_PORT}/docs"
exec $minhu serve
