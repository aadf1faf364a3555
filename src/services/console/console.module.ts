import { defineModule } from "../../platform/services.js";
import { consoleRoutes } from "./console.routes.js";

/**
 * The web console (docs/console.md): a browser client of the public GraphQL API, built into
 * console/dist by `npm ci` and served by this module's routes. It adds no services.
 */
export const consoleModule = defineModule({
  name: "console",
  entities: [],
  migrations: [],
  resolvers: [],
  routes: [consoleRoutes],
  create: () => ({}),
});
