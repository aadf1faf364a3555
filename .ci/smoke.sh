#!/usr/bin/env bash
# `npm start` with nothing configured: embedded PostgreSQL, post telemetry, poll it back, stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
chmod 755 "$dir" # as root, PostgreSQL runs as the postgres user, which must reach the folder
port=18765
pgport=18766
mqttport=18767 # the machine's own broker may hold 1883
log="$dir/server.log"
cleanup() { [ -n "${pid:-}" ] && kill -KILL -- "-$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

# Its own process group, so a Ctrl-C-like signal reaches npm and node together.
setsid env -u DATABASE_URL -u REDIS_URL DATA_DIR="$dir/data" PORT=$port EMBEDDED_PG_PORT=$pgport MQTT_PORT=$mqttport npm start >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { cat "$log"; echo "smoke: server did not start"; exit 1; }

token=smoke-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
pw=$(cat "$dir/data/pg-password")
dev=$(node -e '
  const pg = require("pg");
  const c = new pg.Client({ connectionString: process.argv[1] });
  (async () => {
    await c.connect();
    const u = await c.query("INSERT INTO users (email, username) VALUES ($1, $1) RETURNING id", ["smoke@example.com"]);
    const d = await c.query("INSERT INTO devices (owner_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id", [u.rows[0].id, "smoke", process.argv[2]]);
    await c.query("INSERT INTO device_state (device_id) VALUES ($1)", [d.rows[0].id]);
    console.log(d.rows[0].id);
    await c.end();
  })().catch((e) => { console.error(e); process.exit(1); });
' "postgres://postgres:$pw@127.0.0.1:$pgport/thingsnxt" "$hash")

posted=$(curl -sf -X POST "http://127.0.0.1:$port/devices/$dev/telemetry" -H 'content-type: application/json' \
  -d "{\"device_token\":\"$token\",\"data\":{\"v0\":1,\"temperature\":21.5}}")
echo "smoke: posted -> $posted"
polled=$(curl -sf "http://127.0.0.1:$port/telemetry/latest?device_token=$token")
echo "smoke: polled -> $polled"
echo "$polled" | grep -q '"data":{"v0":1,"temperature":21.5}' || { echo "smoke: poll did not return the report"; exit 1; }

# The same device over MQTT, with Mosquitto's own client.
if command -v mosquitto_pub >/dev/null; then
  mosquitto_pub -h 127.0.0.1 -p "$mqttport" -u "$token" -q 1 -t "thingsnxt/device/$dev/telemetry" -m '{"data":{"v0":0,"humidity":40}}'
  polled=$(curl -sf "http://127.0.0.1:$port/telemetry/latest?device_token=$token")
  echo "smoke: after MQTT -> $polled"
  echo "$polled" | grep -q '"humidity":40' || { echo "smoke: the MQTT report did not arrive"; exit 1; }
else
  echo "smoke: mosquitto_pub not installed, MQTT not smoke-tested"
fi

kill -TERM -- "-$pid"
wait "$pid" || true
for _ in $(seq 1 50); do pgrep -g "$pid" >/dev/null || break; sleep 0.2; done
pgrep -g "$pid" >/dev/null && { cat "$log"; echo "smoke: processes left running after SIGTERM"; exit 1; }
pid=
grep -q '"msg":"shutting down"' "$log" || { cat "$log"; echo "smoke: no clean shutdown"; exit 1; }
[ ! -f "$dir/data/pg/postmaster.pid" ] || { cat "$log"; echo "smoke: PostgreSQL was not stopped"; exit 1; }
if grep -q "$token" "$log"; then echo "smoke: the device token appeared in the log"; exit 1; fi
echo "smoke: passed"
