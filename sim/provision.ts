// Signs in through the GraphQL API, creates the simulated devices and remembers them (with their
// one-time tokens) in a small state file, so the next run reuses them instead of piling up devices.
import { randomBytes } from "node:crypto";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { maskToken } from "./protocol.js";

export interface DeviceRecord {
  name: string;
  id: string;
  token: string;
}

/** Per server URL: the account the devices belong to and the devices. */
interface ServerEntry {
  login: string;
  /** Only for a demo account the simulator registered itself; a password given on the command line is never written. */
  password?: string;
  devices: DeviceRecord[];
}

export interface StateFile {
  version: 1;
  servers: Record<string, ServerEntry>;
}

export class ProvisionError extends Error {}

export async function loadState(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, servers: {} };
    throw new ProvisionError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let parsed: Partial<StateFile> | null = null;
  try {
    parsed = JSON.parse(text) as Partial<StateFile> | null;
  } catch {
    // reported below like any other foreign file
  }
  if (!parsed || parsed.version !== 1 || typeof parsed.servers !== "object" || parsed.servers === null) {
    throw new ProvisionError(`${path} is not a simulator state file; move it away or pass another --state`);
  }
  return parsed as StateFile;
}

/** Written to a temporary file first (mode 0600: it holds device tokens) and renamed, so a crash never leaves half a file. */
export async function saveState(path: string, state: StateFile): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  await chmod(tmp, 0o600); // writeFile's mode applies only to a new file
  await rename(tmp, path);
}

/** One GraphQL operation; errors come back as a ProvisionError carrying the server's message. */
export async function gql<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch (e) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, bad port, ...) is in its cause.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ProvisionError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const body = (await response.json().catch(() => undefined)) as
    { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> } | undefined;
  const error = body?.errors?.[0];
  if (error) throw new ProvisionError(`${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ""}`);
  if (!body?.data) throw new ProvisionError(`no GraphQL answer from ${url}/graphql (HTTP ${response.status})`);
  return body.data;
}

export async function signIn(url: string, login: string, password: string): Promise<string> {
  const data = await gql<{ login: { accessToken: string } }>(url, `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`, {
    input: { login, password },
  });
  return data.login.accessToken;
}

/** A fresh demo account `sim-<random>`; the password satisfies the server's policy (lower, upper, digit). */
export async function registerDemo(url: string): Promise<{ login: string; password: string; accessToken: string }> {
  const username = `sim-${randomBytes(4).toString("hex")}`;
  const email = `${username}@example.com`;
  const password = `Sim1-${randomBytes(12).toString("base64url")}`;
  const data = await gql<{ register: { accessToken: string } }>(url, `mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
    input: { email, username, password, fullName: "Device simulator" },
  });
  return { login: email, password, accessToken: data.register.accessToken };
}

/** Creates the named devices, a few at a time; `created` sees each one at once so none is lost if a later one fails. */
export async function createDevices(url: string, accessToken: string, names: string[], created: (d: DeviceRecord) => void): Promise<void> {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const data = await gql<{ createDevice: { token: string; device: { id: string } } }>(
        url,
        `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { token device { id } } }`,
        { input: { name, type: "esp32-sim" } },
        accessToken,
      );
      created({ name, id: data.createDevice.device.id, token: data.createDevice.token });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
}

export interface ProvisionOptions {
  url: string;
  count: number;
  statePath: string;
  login?: string;
  password?: string;
  /** Sign in even when every device is reused: the caller needs the account (for --dashboard). */
  signIn?: boolean;
  say(text: string): void;
}

export interface Provisioned {
  devices: DeviceRecord[];
  /** The account's access token; set whenever the run signed in (always with `signIn`). */
  accessToken?: string;
}

/** The first `count` devices of this server's entry, creating the missing ones (sim-1 … sim-N). */
export async function provision(o: ProvisionOptions): Promise<Provisioned> {
  const state = await loadState(o.statePath);
  let entry: ServerEntry | undefined = state.servers[o.url];
  if (entry && o.login && entry.login.toLowerCase() !== o.login.toLowerCase()) {
    o.say(`${o.statePath}: forgetting ${entry.devices.length} device(s) of ${entry.login}; using ${o.login}`);
    entry = undefined;
  }
  const reused = Math.min(entry?.devices.length ?? 0, o.count);
  const complete = entry !== undefined && reused === o.count;
  let accessToken: string | undefined;
  if (!complete || o.signIn) {
    ({ entry, accessToken } = await account(o, entry, complete ? "set up the dashboard" : "create more"));
    state.servers[o.url] = entry;
  }
  if (complete) {
    o.say(`Reusing ${reused} device(s) of ${entry!.login} from ${o.statePath}`);
    await saveState(o.statePath, state); // rewrites it 0600 in case someone loosened the mode
    return { devices: entry!.devices.slice(0, o.count), accessToken };
  }
  const owner = entry!;

  const have = new Set(owner.devices.map((d) => d.name));
  const names = Array.from({ length: o.count }, (_, i) => `sim-${i + 1}`).filter((n) => !have.has(n));
  const fresh: DeviceRecord[] = [];
  try {
    await createDevices(o.url, accessToken!, names, (d) => fresh.push(d));
  } finally {
    // Created in parallel, so they arrive in any order.
    const byName = (a: DeviceRecord, b: DeviceRecord) => Number(a.name.slice(4)) - Number(b.name.slice(4));
    fresh.sort(byName);
    owner.devices = [...owner.devices, ...fresh].sort(byName);
    await saveState(o.statePath, state);
  }
  o.say(
    `Devices of ${owner.login}: ${reused} reused, ${fresh.length} created` +
      (fresh.length > 0 ? ` (e.g. ${fresh[0]!.name} token ${maskToken(fresh[0]!.token)})` : "") +
      `; saved in ${o.statePath} (mode 0600)`,
  );
  return { devices: owner.devices.slice(0, o.count), accessToken };
}

/** Signs in as the given account or the state file's demo account, or registers a fresh demo account. */
async function account(o: ProvisionOptions, entry: ServerEntry | undefined, purpose: string): Promise<{ entry: ServerEntry; accessToken: string }> {
  if (o.login) return { entry: entry ?? { login: o.login, devices: [] }, accessToken: await signIn(o.url, o.login, o.password ?? "") };
  if (entry?.password) return { entry, accessToken: await signIn(o.url, entry.login, entry.password) };
  if (entry) {
    throw new ProvisionError(
      `${o.statePath} holds ${entry.devices.length} device(s) of ${entry.login}; to ${purpose}, pass --email ${entry.login} and its password`,
    );
  }
  const demo = await registerDemo(o.url);
  o.say(`Registered demo account: email ${demo.login} password ${demo.password}`);
  return { entry: { login: demo.login, password: demo.password, devices: [] }, accessToken: demo.accessToken };
}
