import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // One graphql module for the schema and the server (see STACK.md).
    alias: { graphql: "graphql/index.js" },
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Tests log nothing unless asked; a failing test prints its own assertions.
    silent: "passed-only",
    // Servers the tests spawn inherit this: the machine's own broker holds 1883 (MQTT tests pick free ports).
    env: { MQTT_PORT: "off" },
  },
});
