import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root, whether this file runs from tools/ (tsx) or from dist/tools/ (compiled). */
export const repoRoot = dirname(fileURLToPath(import.meta.url)).replace(/(\/dist)?\/tools\/testbed$/, "");

/** Compiled entry points: beds run what `npm install` built, as an operator would. */
export const floatipMain = join(repoRoot, "dist/src/cli/main.js");
export const emulatorMain = join(repoRoot, "dist/tools/oci-emulator/main.js");
