// firmware/build/host_device (the firmware core on the PC) as a child process, for the end-to-end tests.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIRMWARE = fileURLToPath(new URL("../../firmware", import.meta.url));
export const HOST_DEVICE = join(FIRMWARE, "build", "host_device");

/** Incremental: objects stay in firmware/build (the Makefile renames outputs into place, so a parallel `make test` is safe). */
export function buildHostDevice(): Promise<{ code: number | null; output: string }> {
  const child = spawn("make", ["-C", FIRMWARE, `-j${availableParallelism()}`, "host"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  return new Promise((done) => child.on("close", (code) => done({ code, output })));
}

export interface Line {
  text: string;
  at: number; // performance.now() when it arrived
}

/** host_device as a child process: its stdout as timed lines, its stdin as the serial console. */
export class HostDevice {
  readonly lines: Line[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcessWithoutNullStreams;
  private partial = "";
  private readonly waiters = new Set<() => void>();

  constructor(args: string[]) {
    this.child = spawn(HOST_DEVICE, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (chunk: Buffer) => {
      const at = performance.now();
      const text = chunk.toString("utf8");
      this.stdout += text;
      this.partial += text;
      const parts = this.partial.split("\n");
      this.partial = parts.pop()!;
      for (const part of parts) this.lines.push({ text: part, at });
      for (const wake of this.waiters) wake();
    });
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.waiters.forEach((wake) => wake()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first line from index `from` on that matches; rejects after `ms` with the output so far. */
  async waitFor(pattern: RegExp, ms = 5_000, from = 0): Promise<Line & { index: number }> {
    const deadline = performance.now() + ms;
    for (;;) {
      const index = this.lines.findIndex((line, i) => i >= from && pattern.test(line.text));
      if (index >= 0) return { ...this.lines[index]!, index };
      const left = deadline - performance.now();
      if (left <= 0 || !this.running) {
        throw new Error(`host_device printed no line matching ${pattern} within ${ms} ms${this.running ? "" : " (it exited)"}:\n${this.tail()}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  tail(n = 25): string {
    return [...this.lines.slice(-n).map((l) => l.text), this.partial, this.stderr ? `stderr: ${this.stderr}` : ""].join("\n");
  }
}

/** An ESP32 application image as the OTA contract describes it: 0xE9, the app descriptor at byte 32 (version at 48), filler. */
export function testImage(version: string, size: number): Buffer {
  const image = randomBytes(size);
  image.fill(0, 0, 112);
  image[0] = 0xe9;
  image.writeUInt32LE(0xabcd5432, 32);
  image.write(version, 48, "latin1");
  image.write("thingsnxt", 80, "latin1");
  return image;
}
