import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * oci-core's model index requires all of its 720 model modules when the SDK loads, and V8 keeps every
 * module's source text, a few MB of a daemon that uses a dozen of them (bench/README.md, Findings).
 * Imported before oci-core (client.ts), this puts a stand-in for the index in require's cache that loads
 * a model module the first time its export is read, so the SDK's own code (clients, serialisers,
 * polymorphic getJsonObj) runs unchanged on the same model modules.
 *
 * The stand-in is built from the index's text, whose generated form is one
 * `const X = __importStar(require("./x-file"));` and one `exports.X = X.X;` per model. If the installed
 * SDK's index looks different, nothing is replaced and the SDK loads as it always did.
 */
export interface LazyModelsStatus {
  installed: boolean;
  /** Models behind the stand-in (when installed). */
  models: number;
  /** Why the stand-in was not installed. */
  reason?: string;
}

const MODEL_REQUIRE = /^const (\w+) = __importStar\(require\("\.\/([\w.-]+)"\)\);$/gm;
const MODEL_EXPORT = /^exports\.(\w+) = (\w+)\.(\w+);$/gm;
const ANY_REQUIRE = /require\(/g;

/** Export name -> module file (relative to the index) of a generated model index, or why it is not one. */
export function parseModelIndex(text: string): Map<string, string> | { error: string } {
  const files = new Map<string, string>();
  for (const m of text.matchAll(MODEL_REQUIRE)) files.set(m[1] ?? "", m[2] ?? "");
  const requires = text.match(ANY_REQUIRE)?.length ?? 0;
  if (files.size === 0 || files.size !== requires) {
    return { error: `${requires} requires, ${files.size} of them model imports` };
  }
  let exported = 0;
  for (const m of text.matchAll(MODEL_EXPORT)) {
    const [, name, binding, member] = m;
    if (name !== binding || name !== member || !files.has(name ?? "")) {
      return { error: `unexpected export line: ${m[0]}` };
    }
    exported++;
  }
  if (exported !== files.size) return { error: `${files.size} model imports, ${exported} exports` };
  return files;
}

/** A module namespace that requires `files[name]` on first read of `name` and returns its export. */
export function lazyModelNamespace(
  files: ReadonlyMap<string, string>,
  load: (file: string) => Record<string, unknown>,
): Record<string, unknown> {
  const loaded = new Map<string, unknown>();
  const read = (name: string): unknown => {
    if (loaded.has(name)) return loaded.get(name);
    const file = files.get(name);
    if (file === undefined) return undefined;
    const value = load(file)[name];
    loaded.set(name, value);
    return value;
  };
  return new Proxy<Record<string, unknown>>(
    {},
    {
      get: (_target, name) => {
        if (name === "__esModule") return true;
        return typeof name === "string" ? read(name) : undefined;
      },
      has: (_target, name) => name === "__esModule" || (typeof name === "string" && files.has(name)),
      ownKeys: () => [...files.keys()],
      getOwnPropertyDescriptor: (_target, name) =>
        typeof name === "string" && files.has(name)
          ? { value: read(name), enumerable: true, configurable: true, writable: false }
          : undefined,
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    },
  );
}

function install(): LazyModelsStatus {
  const require = createRequire(import.meta.url);
  let indexPath: string;
  let text: string;
  try {
    indexPath = require.resolve("oci-core/lib/model/index.js");
    text = readFileSync(indexPath, "utf8");
  } catch (error) {
    return { installed: false, models: 0, reason: `oci-core's model index: ${String(error)}` };
  }
  if (require.cache[indexPath] !== undefined) {
    return { installed: false, models: 0, reason: "oci-core was loaded before the stand-in" };
  }
  const files = parseModelIndex(text);
  if (!(files instanceof Map)) return { installed: false, models: 0, reason: files.error };
  const dir = dirname(indexPath);
  const stand = new Module(indexPath);
  stand.filename = indexPath;
  stand.loaded = true;
  stand.exports = lazyModelNamespace(files, (file) => require(join(dir, file)) as Record<string, unknown>);
  require.cache[indexPath] = stand;
  return { installed: true, models: files.size };
}

export const lazyModels: LazyModelsStatus = install();
