import { randomBytes } from "node:crypto";

export interface GqlResult<T = any> {
  status: number;
  data: T | null | undefined;
  errors: Array<{ message: string; path?: string[]; extensions?: { code?: string } }> | undefined;
}

/** A GraphQL request exactly as the app sends it: POST /graphql, JSON, Bearer token. */
export async function gql<T = any>(base: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GqlResult<T>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: GqlResult["errors"] };
  return { status: response.status, data: body.data, errors: body.errors };
}

/** The code of the first error of an operation; undefined when it succeeded. */
export function codeOf(result: GqlResult): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

export interface Account {
  userId: string;
  username: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const PASSWORD = "Sup3rSecret!";

export async function signUp(base: string, name = `u${randomBytes(4).toString("hex")}`): Promise<Account> {
  const email = `${name}@example.com`;
  const res = await gql(base, `mutation ($input: RegisterInput!) { register(input: $input) { accessToken refreshToken tokenType user { id } } }`, {
    input: { email, username: name, password: PASSWORD, fullName: "Test User" },
  });
  if (!res.data) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  const r = res.data.register;
  return { userId: r.user.id, username: name, email, password: PASSWORD, accessToken: r.accessToken, refreshToken: r.refreshToken };
}

/** A device created through the API, with its one-time token. */
export async function addDevice(base: string, account: Account, name = "esp32"): Promise<{ id: string; token: string }> {
  const res = await gql(
    base,
    `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { token device { id } } }`,
    { input: { name } },
    account.accessToken,
  );
  if (!res.data) throw new Error(`createDevice failed: ${JSON.stringify(res.errors)}`);
  return { id: res.data.createDevice.device.id, token: res.data.createDevice.token };
}

/** A webhook of the account's, to `url`, for `events`. */
export async function addWebhook(base: string, account: Account, url: string, events: string[]): Promise<{ id: string }> {
  const res = await gql(
    base,
    `mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }`,
    { i: { url, events } },
    account.accessToken,
  );
  if (!res.data) throw new Error(`createWebhook failed: ${JSON.stringify(res.errors)}`);
  return { id: res.data.createWebhook.webhook.id };
}
