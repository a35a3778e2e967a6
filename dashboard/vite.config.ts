import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** Builds the dashboard into dist/dashboard, which the agent serves at `/`. */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/dashboard", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The agent's content policy allows no inline scripts; keep everything in files.
    modulePreload: { polyfill: false },
  },
});
