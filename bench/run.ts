/**
 * `npm run bench`: every benchmark table. Servers run as their own processes on the local
 * PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres; each scenario
 * creates and drops a scratch database); load comes from this process. Not a test: nothing is
 * asserted; the README records what it printed.
 *
 *   BENCH_SECONDS (10)  BENCH_DEVICES (500)  BENCH_IDLE_SOCKETS (10000)
 *   BENCH_MQTT_DEVICES (200)
 *   BENCH_HISTORY_POINTS (10000000)  BENCH_HISTORY_RUNS (100)
 *   BENCH_OTA_DEVICES (200)
 *   BENCH_ONLY=rest,graphql,realtime,mqtt,rules,webhooks,history,ota   a subset
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { graphqlBench } from "./graphql.js";
import { mqttBench } from "./mqtt.js";
import { realtimeBench } from "./realtime.js";
import { restBench } from "./rest.js";
import { seconds } from "./lib.js";

const only = new Set((process.env.BENCH_ONLY ?? "rest,graphql,realtime,mqtt,rules,webhooks,history,ota").split(","));
console.log(`ThingsNXT benchmarks, ${new Date().toISOString().slice(0, 10)}: ${seconds} s per load scenario, load generator on the same machine`);
if (only.has("rest")) await restBench();
if (only.has("graphql")) await graphqlBench();
if (only.has("realtime")) await realtimeBench();
if (only.has("mqtt")) await mqttBench();
// Area benchmarks that live in their own scripts.
for (const name of ["rules", "webhooks", "history", "soak", "ota"]) {
  const file = new URL(`./${name}.ts`, import.meta.url);
  if (only.has(name) && existsSync(file)) spawnSync(process.execPath, ["--import", "tsx", file.pathname], { stdio: "inherit", env: process.env });
}
