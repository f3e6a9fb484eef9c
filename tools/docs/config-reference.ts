import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";
import ts from "typescript";
import { z } from "zod";
import * as schemaModule from "../../src/config/schema.ts";

/**
 * Writes docs/configuration.md from src/config/schema.ts: the structure, types, limits and defaults come
 * from the zod schema (leaf facts through z.toJSONSchema), the descriptions from the schema's own doc
 * comments. test/docs.test.ts checks that the committed file equals this output.
 *
 *   node --import tsx tools/docs/config-reference.ts --write    # rewrite docs/configuration.md
 *   node --import tsx tools/docs/config-reference.ts            # print it
 */

const root = resolve(import.meta.dirname, "../..");
const SCHEMA_FILE = "src/config/schema.ts";
export const OUTPUT_FILE = "docs/configuration.md";

type Schema = z.ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  defaultValue?: unknown;
  shape?: Record<string, Schema>;
  element?: Schema;
  in?: Schema;
}
const defOf = (schema: Schema) => (schema as unknown as { _zod: { def: Def } })._zod.def;

// ---------------------------------------------------------------------------------- doc comments

/** Doc comments of schema.ts, by `exportName` and `exportName.key.key...` (object literal nesting). */
function docComments(): Map<string, string> {
  const text = readFileSync(resolve(root, SCHEMA_FILE), "utf8");
  const file = ts.createSourceFile(SCHEMA_FILE, text, ts.ScriptTarget.ES2022, true);
  const docs = new Map<string, string>();
  const docOf = (node: ts.Node) =>
    ts
      .getJSDocCommentsAndTags(node)
      .filter(ts.isJSDoc)
      .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
  const visit = (node: ts.Node, path: string): void => {
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      const key = `${path}.${node.name.text}`;
      const doc = docOf(node);
      if (doc) docs.set(key, doc);
      visit(node.initializer, key);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, path));
  };
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
      const name = declaration.name.text;
      const doc = docOf(statement);
      if (doc) docs.set(name, doc);
      visit(declaration.initializer, name);
    }
  }
  return docs;
}

// ------------------------------------------------------------------------------- schema walking

interface Unwrapped {
  inner: Schema;
  required: boolean;
  defaultValue?: unknown;
}

function unwrap(schema: Schema): Unwrapped {
  let inner = schema;
  let required = true;
  let defaultValue: unknown;
  for (;;) {
    const def = defOf(inner);
    if (def.type === "default" || def.type === "prefault") {
      required = false;
      defaultValue = def.defaultValue;
      inner = def.innerType as Schema;
    } else if (def.type === "optional" || def.type === "nullable") {
      required = false;
      inner = def.innerType as Schema;
    } else return defaultValue === undefined ? { inner, required } : { inner, required, defaultValue };
  }
}

type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  anyOf?: JsonSchema[];
};

const json = (schema: Schema) =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
const code = (text: string) => `\`${text.replace(/\|/g, "\\|")}\``;
/** Doc comment text inside a table cell: no pipes, no HTML. */
const prose = (text: string) => text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function typeText(s: JsonSchema): string {
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((v) => code(JSON.stringify(v))).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeText).join(" \\| ");
  if (s.type === "array") return `list of ${s.items ? typeText(s.items) : "values"}`;
  if (s.type === "object")
    return s.additionalProperties ? `map of name → ${typeText(s.additionalProperties)}` : "object";
  if (s.format) return `${s.type ?? "string"} (${s.format})`;
  return s.type ?? "any";
}

function limitsText(s: JsonSchema): string {
  const parts: string[] = [];
  const range = (min?: number, max?: number, unit = "") =>
    min !== undefined && max !== undefined
      ? `${min}–${max}${unit}`
      : min !== undefined
        ? `≥ ${min}${unit}`
        : max !== undefined
          ? `≤ ${max}${unit}`
          : "";
  const length = range(s.minLength, s.maxLength, " characters");
  if (length) parts.push(length);
  const value = range(s.minimum, s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum);
  if (value) parts.push(value);
  const items = range(s.minItems, s.maxItems, " items");
  if (items) parts.push(items);
  if (s.pattern) parts.push(code(s.pattern));
  if (s.type === "object" && s.additionalProperties) {
    const inner = limitsText(s.additionalProperties);
    if (inner) parts.push(`values: ${inner}`);
  }
  return parts.join("; ");
}

const TOP = "Top level";

interface Section {
  title: string;
  intro: string;
  rows: string[];
}

/** The export a schema object is (by identity), so nested docs are looked up where they are written. */
function exportNames(): Map<Schema, string> {
  const names = new Map<Schema, string>();
  for (const [name, value] of Object.entries(schemaModule)) {
    if (value instanceof z.ZodType) {
      names.set(value, name);
      names.set(unwrap(value).inner, name);
    }
  }
  return names;
}

function walk(
  objectSchema: Schema,
  title: string,
  scope: string,
  docs: Map<string, string>,
  names: Map<Schema, string>,
  sections: Section[],
): void {
  const section: Section = { title, intro: prose(docs.get(scope) ?? ""), rows: [] };
  sections.push(section);
  for (const [key, field] of Object.entries(defOf(objectSchema).shape ?? {})) {
    const { inner, required, defaultValue } = unwrap(field);
    const doc = prose(docs.get(`${scope}.${key}`) ?? "");
    const def = defOf(inner);
    const path = `${title === TOP ? "" : `${title}.`}${key}`;
    const element = def.type === "array" && def.element ? unwrap(def.element).inner : undefined;
    const nested =
      def.type === "object" ? inner : element && defOf(element).type === "object" ? element : undefined;
    const defaultText = required
      ? "required"
      : defaultValue === undefined
        ? "optional"
        : code(JSON.stringify(defaultValue));
    if (nested) {
      const childTitle = nested === inner ? path : `${path}[]`;
      const childScope = names.get(nested) ?? names.get(inner) ?? `${scope}.${key}`;
      const kind = nested === inner ? "object" : "list of objects";
      section.rows.push(
        `| ${code(key)} | ${kind}, see [${childTitle}](#${anchor(childTitle)}) | ${defaultText} | ${doc} |`,
      );
      walk(nested, childTitle, childScope, docs, names, sections);
      continue;
    }
    const facts = json(inner);
    const limits = limitsText(facts);
    const described = [doc, limits ? `Limits: ${limits}.` : ""].filter(Boolean).join(" ");
    section.rows.push(`| ${code(key)} | ${typeText(facts)} | ${defaultText} | ${described} |`);
  }
}

function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
}

function attributeTable(rules: Record<string, Schema>, scope: string, docs: Map<string, string>): string[] {
  const rows = ["| name | values | description |", "| --- | --- | --- |"];
  for (const [name, rule] of Object.entries(rules)) {
    const facts = json(rule);
    const limits = limitsText(facts);
    rows.push(
      `| ${code(name)} | ${typeText(facts)}${limits ? ` (${limits})` : ""} | ${docs.get(`${scope}.${name}`) ?? ""} |`,
    );
  }
  return rows;
}

/** The whole of docs/configuration.md, formatted as the repository's Prettier settings format it. */
export async function renderConfigReference(): Promise<string> {
  const docs = docComments();
  const names = exportNames();
  const sections: Section[] = [];
  walk(schemaModule.clusterConfigSchema, TOP, "clusterConfigSchema", docs, names, sections);
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by tools/docs/config-reference.ts; do not edit by hand.",
    "     Rewrite it with: node --import tsx tools/docs/config-reference.ts --write -->",
    "",
    "The cluster document lives in `/var/lib/floatip/cluster.json` on every node (`--config`,",
    "`FLOATIP_CONFIG`). The CLI changes it (`cluster setup`, `resource ...`, `constraint ...`, `property ...`,",
    "`alert ...`); each change is validated against this schema, stored with the next `epoch` and copied to",
    "every node. Fields with a default may be left out. Durations in attributes are written as pcs takes",
    "them (`500ms`, `10s`, `2min`, `PT1M30S`, or a bare number of seconds).",
    "",
  ];
  for (const section of sections) {
    lines.push(`## ${section.title}`, "");
    if (section.intro) lines.push(section.intro, "");
    lines.push("| field | type | default | description |", "| --- | --- | --- | --- |", ...section.rows, "");
  }
  lines.push(
    "## Resource meta attributes",
    "",
    "Checked in `resources[].meta`, `groups[].meta` and `resourceDefaults`; other names are kept as they are.",
    "",
    ...attributeTable(schemaModule.knownMetaSchemas, "knownMetaSchemas", docs),
    "",
    "## Cluster properties",
    "",
    "Checked in `properties` (`floatip property set`).",
    "",
    ...attributeTable(schemaModule.knownPropertySchemas, "knownPropertySchemas", docs),
    "",
    "## Alert meta attributes",
    "",
    "Checked in `alerts[].meta` and `alerts[].recipients[].meta`; a recipient's value wins over its alert's.",
    "",
    ...attributeTable(schemaModule.knownAlertMetaSchemas, "knownAlertMetaSchemas", docs),
    "",
  );
  const options = (await resolveConfig(resolve(root, OUTPUT_FILE))) ?? {};
  return format(lines.join("\n"), { ...options, parser: "markdown" });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const text = await renderConfigReference();
  if (process.argv.includes("--write")) writeFileSync(resolve(root, OUTPUT_FILE), text);
  else process.stdout.write(text);
}
