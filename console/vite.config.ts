import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// `vite build console` (npm's prepare) writes console/dist, which src/services/console serves.
export default defineConfig({
  base: "/console/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The CSP allows no inline script, and data: URLs only for images: keep every asset a file.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run console:dev`: the API of a server started with `npm start` on :8000.
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
