// npm's `prepare` step: builds the console into console/dist. Without Vite (an install with
// --omit=dev) it says so and leaves the server serving the JSON index at `/`.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
try {
  createRequire(import.meta.url).resolve("vite");
} catch {
  console.log("console: vite is not installed (dev dependencies omitted); the web console is not built");
  process.exit(0);
}
const { build } = await import("vite");
await build({ root, configFile: `${root}vite.config.ts`, logLevel: "warn" });
console.log("console: built into console/dist");
