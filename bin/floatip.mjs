#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it (the prepare script), `npm run build` rebuilds it.
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("Error: floatip is not built; run 'npm run build' in its directory\n");
  process.exit(1);
}
await import(entry.href);
