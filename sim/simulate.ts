// npm run simulate -- --devices N --interval S [--poll S] [--url URL] [--transport http|mqtt] [--duration S] [--email E --password P] [--dashboard]
// A fleet of simulated ESP32s that talk to the server exactly as the firmware does (see sim/device.ts), over
// HTTP or over one MQTT connection each (sim/mqtt-transport.ts).
import { parseArgs } from "node:util";
import { describeDashboard, ensureDashboard } from "./dashboard.js";
import { SimDevice } from "./device.js";
import { MqttTransport } from "./mqtt-transport.js";
import { provision, ProvisionError } from "./provision.js";
import { HTTP_NOUNS, MQTT_NOUNS, Stats } from "./stats.js";

const USAGE = `Usage: npm run simulate -- [options]
  --devices N        simulated devices (default 5)
  --interval S       seconds between reports (default 10, as the firmware)
  --poll S           seconds between polls (default 3, as the firmware); HTTP only
  --url URL          server (default http://127.0.0.1:8000); accounts and devices are made there
  --transport T      http (default): report and poll as the firmware does; mqtt: one MQTT connection
                     per device (user name = device id, password = token), reports published with QoS 1
                     and counted at their PUBACK, state and commands pushed by the server
  --mqtt-url URL     mqtt:// or mqtts:// endpoint (default: the --url host, port 1883)
  --topic-prefix P   the server's MQTT_TOPIC_PREFIX (default thingsnxt)
  --duration S       stop after S seconds (default: until Ctrl-C / SIGTERM)
  --email E          sign in as this account (with --password); default: a fresh demo account
  --password P       (or the environment variable SIM_PASSWORD, which other users cannot see in ps)
  --state FILE       devices and their tokens, reused by the next run (default ./sim-devices.json, mode 0600)
  --dashboard        also make a dashboard "Simulator" for the account: a switch (led) per output pin
                     v0-v3 and a gauge per sensor of every device; a re-run reuses it, adding only
                     missing widgets (at most 100 widgets: 14 devices)
  --no-long-poll     ignore X-Long-Poll-Max and poll plainly (firmware before long polling); with long
                     polling a poll is held at most until the next report is due, as on the ESP32
                     (one request at a time)
  --firmware-version V  reported as fw_version at start; update offers (the state key \`ota\`) are then
                     answered as the firmware does: GET /firmware/update, size and SHA-256 checked,
                     fw_state DOWNLOADING, DOWNLOADED, UPDATING reported, then fw_version = the offered
                     version (without it the devices ignore offers, as firmware before updates did)
  --ota-failure-rate P  share 0..1 of the devices that report fw_state FAILED after downloading an
                     offered image (default 0; needs --firmware-version), to exercise a release's abort
                     threshold
  --verbose          also print each device's retries, commands and long-poll changes
A device that loses the server (no connection, a timeout, a 5xx, a dropped MQTT connection) prints
"offline (...)" once, retries (or reconnects) with the firmware's backoff (at most 60 s apart) and prints
"online again" once it is answered.`;

interface Options {
  devices: number;
  intervalS: number;
  pollS: number;
  url: string;
  /** Undefined: HTTP. */
  mqtt?: { url: string; topicPrefix: string };
  durationS?: number;
  email?: string;
  password?: string;
  state: string;
  dashboard: boolean;
  longPoll: boolean;
  verbose: boolean;
  firmwareVersion?: string;
  otaFailureRate: number;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** As esp_app_desc_t.version holds it: 1..31 printable characters. */
function firmwareVersionOf(text: string): string {
  if (!/^[\x21-\x7e]{1,31}$/.test(text)) fail(`--firmware-version must be 1..31 printable characters without spaces, got "${text}"`);
  return text;
}

function rateOf(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) fail(`--ota-failure-rate must be a number 0..1, got "${text}"`);
  return n;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        devices: { type: "string", default: "5" },
        interval: { type: "string", default: "10" },
        poll: { type: "string", default: "3" },
        url: { type: "string", default: "http://127.0.0.1:8000" },
        transport: { type: "string", default: "http" },
        "mqtt-url": { type: "string" },
        "topic-prefix": { type: "string" },
        duration: { type: "string" },
        email: { type: "string" },
        password: { type: "string" },
        state: { type: "string", default: "./sim-devices.json" },
        dashboard: { type: "boolean", default: false },
        "no-long-poll": { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        "firmware-version": { type: "string" },
        "ota-failure-rate": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const seconds = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number of seconds, got "${text}"`);
    return n;
  };
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 100_000) fail(`--devices must be an integer 1..100000, got "${values.devices}"`);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    fail(`--url is not a URL: "${values.url}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`--url must be http:// or https://`);
  if (values.transport !== "http" && values.transport !== "mqtt") fail(`--transport must be http or mqtt, got "${values.transport}"`);
  const mqtt = values.transport === "mqtt" ? mqttOptions(url, values["mqtt-url"], values["topic-prefix"]) : undefined;
  if (!mqtt && (values["mqtt-url"] !== undefined || values["topic-prefix"] !== undefined)) fail("--mqtt-url and --topic-prefix need --transport mqtt");
  if (values["ota-failure-rate"] !== undefined && values["firmware-version"] === undefined) fail("--ota-failure-rate needs --firmware-version");
  const password = values.password ?? process.env.SIM_PASSWORD;
  if (values.email === undefined && values.password !== undefined) fail("--password needs --email");
  if (values.email !== undefined && password === undefined) fail("--email needs --password (or SIM_PASSWORD)");
  return {
    devices,
    intervalS: seconds("interval", values.interval),
    pollS: seconds("poll", values.poll),
    url: url.toString().replace(/\/+$/, ""),
    mqtt,
    durationS: values.duration === undefined ? undefined : seconds("duration", values.duration),
    email: values.email,
    password: values.email === undefined ? undefined : password,
    state: values.state,
    dashboard: values.dashboard,
    longPoll: !values["no-long-poll"],
    verbose: values.verbose,
    firmwareVersion: values["firmware-version"] === undefined ? undefined : firmwareVersionOf(values["firmware-version"]),
    otaFailureRate: values["ota-failure-rate"] === undefined ? 0 : rateOf(values["ota-failure-rate"]),
  };
}

function mqttOptions(server: URL, text: string | undefined, prefix = "thingsnxt"): NonNullable<Options["mqtt"]> {
  let url: URL;
  try {
    url = new URL(text ?? `mqtt://${server.hostname}:1883`);
  } catch {
    fail(`--mqtt-url is not a URL: "${text}"`);
  }
  if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") fail(`--mqtt-url must be mqtt:// or mqtts://`);
  // Topic levels: no wildcards, no empty level, no leading or trailing slash.
  if (!/^[^/#+]+(\/[^/#+]+)*$/.test(prefix)) fail(`--topic-prefix must be topic levels without wildcards, got "${prefix}"`);
  return { url: url.toString().replace(/\/+$/, ""), topicPrefix: prefix };
}

/** On a terminal the status line is redrawn in place; in a pipe or a log file every status is its own line. */
class Printer {
  private status = "";
  private readonly tty = Boolean(process.stdout.isTTY);

  message(text: string): void {
    process.stdout.write(this.tty && this.status ? `\r\x1b[2K${text}\n${this.status}` : `${text}\n`);
  }

  live(text: string): void {
    this.status = text;
    process.stdout.write(this.tty ? `\r\x1b[2K${text}` : `${text}\n`);
  }

  final(text: string): void {
    process.stdout.write(this.tty && this.status ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.status = "";
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const printer = new Printer();
  let records;
  let step = "the devices";
  try {
    const say = (t: string) => printer.message(t);
    const account = await provision({ url: o.url, count: o.devices, statePath: o.state, login: o.email, password: o.password, signIn: o.dashboard, say });
    records = account.devices;
    step = "the dashboard";
    if (o.dashboard) say(describeDashboard(await ensureDashboard(o.url, account.accessToken!, records)));
  } catch (e) {
    if (!(e instanceof ProvisionError)) throw e;
    process.stderr.write(`Cannot set up ${step}: ${e.message}\n`);
    process.exit(1);
  }

  const intervalMs = o.intervalS * 1000;
  const stats = new Stats(records.length, 2 * intervalMs, undefined, o.mqtt ? MQTT_NOUNS : HTTP_NOUNS);
  const mqtt = o.mqtt;
  // Exactly that share of the fleet fails its updates, the first devices of the list.
  const failing = Math.round(o.otaFailureRate * records.length);
  const devices = records.map(
    (r, index) =>
      new SimDevice({
        baseUrl: o.url,
        id: r.id,
        token: r.token,
        name: r.name,
        telemetryIntervalMs: intervalMs,
        pollIntervalMs: o.pollS * 1000,
        longPoll: o.longPoll,
        firmwareVersion: o.firmwareVersion,
        otaFails: index < failing,
        startDelayMs: Math.random() * intervalMs, // boots spread over one interval: no lockstep
        ...(mqtt ? { transport: (t) => new MqttTransport(t, mqtt) } : {}),
        listener: {
          ...stats.listener,
          line: (device, text, debug) => {
            if (!debug || o.verbose) printer.message(`device ${device.name}: ${text}`);
          },
        },
      }),
  );
  printer.message(
    `Simulating ${devices.length} device(s) against ${o.url}` +
      (mqtt
        ? ` over MQTT (${mqtt.url}, topics ${mqtt.topicPrefix}/device/<id>/...): report every ${o.intervalS} s, `
        : `: report every ${o.intervalS} s, poll every ${o.pollS} s, `) +
      `boots spread over ${o.intervalS} s${o.durationS ? `, for ${o.durationS} s` : "; Ctrl-C stops"}`,
  );
  const runs = Promise.all(devices.map((d) => d.run()));
  const ticker = setInterval(() => printer.live(stats.liveLine()), 2_000);

  let finishing = false;
  const finish = async (why: string, code: number) => {
    if (finishing) return;
    finishing = true;
    clearInterval(ticker);
    clearTimeout(timer);
    for (const d of devices) d.stop();
    await runs;
    printer.final(stats.finalLine());
    if (why) process.stderr.write(`${why}\n`);
    process.exit(code);
  };
  const timer = o.durationS ? setTimeout(() => void finish("", 0), o.durationS * 1000) : undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // A second signal does not wait for the devices.
    process.on(signal, () => (finishing ? process.exit(130) : void finish(`stopped by ${signal}`, 0)));
  }
  // Every device stopped by a refused token: nothing is left to simulate.
  const refusal = mqtt ? "its token refused at CONNECT" : "403";
  void runs.then(() => finish(`every device was rejected (${refusal}); delete the state file to create new ones`, 1));
}

main().catch((e: unknown) => {
  process.stderr.write(`simulate: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
