import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestServer, type TestServer } from "../helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
/** Screenshots of the main screens; CONSOLE_DOCS_SCREENSHOTS=1 also refreshes the two in docs/images. */
const SHOTS = "test-results/console";
const PASSWORD = "Console-Test-1";

describe.skipIf(!existsSync(CHROMIUM))(
  "web console in Chromium (skipped without /usr/bin/chromium: .ci/run installs Debian's chromium)",
  { timeout: 120_000 },
  () => {
    let server: TestServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let host: string;
    const requests: string[] = [];
    const sockets: string[] = [];
    const pageErrors: string[] = [];
    const device = { id: "", token: "" };
    let dashboardUrl = "";

    const open = async (ctx: BrowserContext) => {
      ctx.on("request", (r) => requests.push(r.url()));
      await ctx.addInitScript({
        content: `window.cspViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
      });
      const p = await ctx.newPage();
      p.setDefaultTimeout(20_000);
      p.on("pageerror", (e) => pageErrors.push(e.message));
      p.on("websocket", (ws) => sockets.push(ws.url()));
      return p;
    };
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const report = (data: Record<string, unknown>) =>
      http(server.url, "POST", `/devices/${device.id}/telemetry`, { body: { device_token: device.token, data } });

    const signUp = async (p: Page, name: string) => {
      await p.goto(`${server.url}/`);
      await p.waitForURL(/\/console\/login$/);
      await p.getByRole("link", { name: "Create an account" }).click();
      await p.getByLabel("Email").fill(`${name}@example.com`);
      await p.getByLabel("Username").fill(name);
      await p.getByLabel("Password").fill(PASSWORD);
      await p.getByRole("button", { name: "Sign up" }).click();
      await p.getByRole("heading", { name: "Devices" }).waitFor();
    };

    beforeAll(async () => {
      expect(existsSync(new URL("../../console/dist/index.html", import.meta.url)), "console/dist is missing: run `npm run console:build`").toBe(true);
      await mkdir(SHOTS, { recursive: true });
      server = await startTestServer();
      host = new URL(server.url).host;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // As root, in a closed network: no sandbox, and none of Chromium's own calls home.
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      page = await open(context);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    it("signs up and adds a device, whose token is shown once with the provisioning line", async () => {
      await shot("login");
      await signUp(page, "alice");
      await page.getByLabel("Name", { exact: true }).fill("Kitchen");
      await page.getByRole("button", { name: "Add device" }).click();
      const token = page.getByTestId("device-token");
      await token.waitFor();
      device.token = (await token.innerText()).trim();
      device.id = (await page.locator("code[data-copy]").first().innerText()).trim();
      expect(device.id).toMatch(/^[0-9a-f-]{36}$/);
      await expect.poll(() => page.locator("pre").innerText()).toContain(`provision ${device.id} ${device.token} ${server.url}`);
      await shot("device-added");
      await page.getByRole("button", { name: "Done, I stored it" }).click();
      const row = page.locator(`tr[data-device="${device.id}"]`);
      await expect.poll(() => row.innerText()).toMatch(/Kitchen\s+offline\s+never\s+HTTP/);
      // A report turns the row online without a reload.
      expect((await report({ temperature: 19, fw_version: "1.4.2" })).status).toBe(200);
      await expect.poll(() => row.innerText(), { timeout: 20_000 }).toMatch(/online/);
      await page.reload();
      await expect.poll(() => row.innerText(), { timeout: 20_000 }).toMatch(/Kitchen\s+online\s+\d+ s ago\s+HTTP\s+1\.4\.2/);
      await shot("devices");
    });

    it("creates a dashboard with an LED and a gauge", async () => {
      await page.getByRole("link", { name: "Dashboards" }).click();
      await page.getByLabel("Dashboard name").fill("Home");
      await page.getByRole("button", { name: "Create dashboard" }).click();
      await page.getByRole("heading", { name: "Home" }).waitFor();
      dashboardUrl = page.url();
      await page.getByRole("button", { name: "Edit dashboard" }).click();
      const form = page.getByRole("form", { name: "Add a widget" });
      await form.getByLabel("Type").selectOption("led");
      await form.getByLabel("Label").fill("Lamp");
      await form.getByRole("button", { name: "Add widget" }).click();
      await page.getByRole("switch", { name: "Lamp (v0)" }).waitFor();
      await form.getByLabel("Type").selectOption("gauge");
      await form.getByLabel("Label").fill("Temperature");
      await form.getByLabel("Key").fill("temperature");
      await form.getByLabel("Max").fill("50");
      await form.getByRole("button", { name: "Add widget" }).click();
      await page.getByRole("meter", { name: "Temperature" }).waitFor();
      // Keyboard arrangement: the gauge moves first and grows; the order survives a reload.
      await page.getByRole("button", { name: "Move Temperature earlier" }).click();
      await page.getByRole("button", { name: "Make Temperature wider" }).click();
      await page.getByRole("button", { name: "Done editing" }).click();
      await page.reload();
      await expect.poll(() => page.locator("article.widget h3").allInnerTexts()).toEqual(["Temperature", "Lamp"]);
    });

    it("shows a device's report on the gauge without a reload", async () => {
      const gauge = page.getByRole("meter", { name: "Temperature" });
      await expect.poll(() => gauge.getAttribute("aria-valuenow")).toBe("19");
      expect((await report({ temperature: 23.5 })).status).toBe(200);
      await expect.poll(() => gauge.getAttribute("aria-valuenow"), { timeout: 20_000 }).toBe("23.5");
      await expect.poll(() => gauge.innerText()).toContain("23.5");
    });

    it("sends the LED click to the device, pending until the device reports the pin", async () => {
      const lamp = page.getByRole("switch", { name: "Lamp (v0)" });
      const widget = page.locator("article.widget", { has: lamp });
      await lamp.click();
      await expect.poll(() => lamp.getAttribute("aria-checked")).toBe("true");
      await expect.poll(() => widget.innerText()).toContain("pending");
      const poll = await http(server.url, "GET", `/telemetry/latest?device_token=${device.token}`);
      expect(poll.status).toBe(200);
      expect(poll.body.data.v0).toBe(1);
      expect((await report({ v0: 1, led: 1 })).status).toBe(200);
      await expect.poll(() => widget.innerText(), { timeout: 20_000 }).not.toContain("pending");
      expect(await lamp.getAttribute("aria-checked")).toBe("true");
      await shot("dashboard");
    });

    it("shows the device page with its state and a chart per key", async () => {
      await page.goto(`${server.url}/console/devices/${device.id}`);
      await page.getByRole("heading", { name: /Kitchen/ }).waitFor();
      await page.getByRole("region", { name: "History of temperature" }).locator("canvas").waitFor();
      // The state table's row (the key table below has one for v0 too).
      expect(await page.getByRole("region", { name: "State" }).getByRole("row", { name: /^v0/ }).innerText()).toMatch(/v0\s+1\s+–\s+1/);
      await shot("device");
    });

    it("draws charts in the time zone set on the profile", async () => {
      await page.getByRole("link", { name: "Profile" }).click();
      // The form fills itself from `me` when it arrives: type after that, or the answer overwrites it.
      await expect.poll(() => page.getByLabel("Username").inputValue(), { timeout: 20_000 }).toBe("alice");
      const zone = page.getByLabel("Time zone");
      await zone.fill("Asia/Tokyo");
      await page.getByRole("button", { name: "Save profile" }).click();
      await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
      await page.goto(`${server.url}/console/devices/${device.id}`);
      const chart = page.getByRole("region", { name: "History of temperature" });
      await expect.poll(() => chart.innerText(), { timeout: 20_000 }).toContain("Times in Asia/Tokyo");
      // telemetryKeys lists every key the device reported, with its latest value.
      const keys = page.getByRole("table", { name: "Reported keys" });
      await expect.poll(() => keys.getByRole("row", { name: /^temperature/ }).innerText(), { timeout: 20_000 }).toMatch(/^temperature\s+23\.5\s/);
    });

    it("downloads the history as CSV with the access token, times in the user's zone", async () => {
      const button = page.getByRole("button", { name: "Download CSV" });
      await expect.poll(() => button.isEnabled(), { timeout: 20_000 }).toBe(true); // once telemetryKeys answered
      const downloaded = page.waitForEvent("download", { timeout: 30_000 });
      await button.click();
      const download = await downloaded;
      expect(download.suggestedFilename()).toBe(`telemetry-${device.id}.csv`);
      const lines = (await readFile((await download.path())!, "utf8")).trim().split(/\r?\n/);
      expect(lines[0]).toBe("time,key,value");
      const temperatures = lines.filter((l) => l.includes(",temperature,"));
      expect(temperatures.map((l) => l.split(",")[2])).toEqual(["19", "23.5"]);
      for (const line of temperatures) expect(line).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+09:00,/);
    });

    it("lists firmware releases read-only, with their counts", async () => {
      await page.getByRole("link", { name: "Firmware" }).click();
      await page.getByRole("heading", { name: "Firmware releases" }).waitFor();
      await page.getByText("No releases yet").waitFor();
      // A release made through the API (the screen only shows them), with the console's own session.
      const token = ((await page.evaluate("JSON.parse(localStorage.getItem('thingsnxt.session')).accessToken")) as string) ?? "";
      const image = Buffer.alloc(4096, 0);
      image[0] = 0xe9; // an ESP32 application image
      const uploaded = await fetch(`${server.url}/firmware?title=kitchen&version=2.0.0`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: image,
      });
      expect(uploaded.status).toBe(201);
      const firmwareId = ((await uploaded.json()) as { id: string }).id;
      const created = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          query: `mutation ($i: CreateReleaseInput!) { createRelease(input: $i) { id } }`,
          variables: { i: { firmwareId, deviceIds: [device.id], rolloutPercent: 100 } },
        }),
      });
      const releaseId = ((await created.json()) as { data: { createRelease: { id: string } } }).data.createRelease.id;
      await page.reload();
      const row = page.locator(`tr[data-release="${releaseId}"]`);
      // firmware, status, progress, then targeted 1 (and 0 updated, failed, rolled back, timed out).
      await expect.poll(() => row.innerText()).toMatch(/kitchen\s+2\.0\.0\s+active\s+1\s+[01]\s+0\s+0\s+0\s+0\s+0/);
      await shot("releases");
    });

    it("shows a second user none of it", async () => {
      const other = await browser.newContext({ viewport: { width: 390, height: 800 } }); // a phone
      const p = await open(other);
      await signUp(p, "bob");
      await p.getByText("No devices yet").waitFor();
      expect(await p.locator("tr[data-device]").count()).toBe(0);
      await p.goto(`${server.url}/console/dashboards`);
      await p.getByText("No dashboards yet.").waitFor();
      await p.goto(dashboardUrl);
      await p.getByText("No such dashboard.").waitFor();
      await p.goto(`${server.url}/console/devices/${device.id}`);
      await p.getByText("No such device.").waitFor();
      await p.screenshot({ path: join(SHOTS, "second-user-phone.png"), fullPage: true });
      expect(await p.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
      await other.close();
    });

    it("logs out", async () => {
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(/\/console\/login$/);
      expect(await page.evaluate("localStorage.getItem('thingsnxt.session')")).toBeNull();
    });

    it("made every request to this server only, and broke no CSP rule", async () => {
      expect(requests.length).toBeGreaterThan(10);
      // The CSV arrives as a blob: URL of this page's own origin.
      for (const url of [...requests, ...sockets]) expect(new URL(url.replace(/^blob:/, "")).host, url).toBe(host);
      expect(sockets).toContain(`ws://${host}/graphql`); // subscriptions over graphql-ws
      expect(pageErrors).toEqual([]);
      expect(await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
      if (process.env.CONSOLE_DOCS_SCREENSHOTS === "1") {
        await copyFile(join(SHOTS, "dashboard.png"), "docs/images/console-dashboard.png");
        await copyFile(join(SHOTS, "devices.png"), "docs/images/console-devices.png");
      }
    });
  },
);
