import "reflect-metadata";
import { runAdmin } from "./app/admin.js";
import { ConfigError } from "./platform/config.js";

// `npm run admin -- <command>`: operator tasks on the configured database (see ADMIN_USAGE).
runAdmin(
  process.argv.slice(2),
  process.env,
  (line) => console.log(line),
  (line) => console.error(line),
).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : error);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
