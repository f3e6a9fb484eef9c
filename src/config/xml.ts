import { createRequire } from "node:module";

/**
 * The one XML reader, for the two XML formats floatip reads: Pacemaker CIBs (`import-cib`) and OCF agents'
 * meta-data. Built on fast-xml-parser: elements, attributes, text and CDATA are read; comments, processing
 * instructions and the XML declaration are skipped. Neither format declares entities, so what makes XML
 * dangerous is refused: entity declarations in a DOCTYPE (billion laughs, external entities) and every
 * entity but XML's five and character references; nesting is bounded.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** All text inside the element, its descendants' included, in document order (CDATA as written). */
  text: string;
}

/** Not XML, or XML this reader refuses; `line` and `column` (1-based) where the parser knows them. */
export class XmlSyntaxError extends Error {
  override readonly name = "XmlSyntaxError";

  constructor(
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(
      line === undefined
        ? reason
        : `${reason} (line ${line}${column === undefined ? "" : `, column ${column}`})`,
    );
  }
}

export interface XmlReadOptions {
  /** Trim white space around text and attribute values (default false: values as written). */
  trim?: boolean;
  /** The deepest nesting of elements accepted (default 100). */
  maxDepth?: number;
  /** The longest input accepted, in characters (default: no limit). */
  maxChars?: number;
}

/**
 * The parser, loaded on first use: every floatip process (the daemon too) loads the modules that read XML
 * through the CLI, and few ever parse any; loading it eagerly costs each daemon ~5 MB.
 */
function xmlParser(): typeof import("fast-xml-parser") {
  return createRequire(import.meta.url)("fast-xml-parser") as typeof import("fast-xml-parser");
}

const predefinedEntities: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

function decodeReference(whole: string, body: string): string {
  const named = predefinedEntities[body];
  if (named !== undefined) return named;
  const ref = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
  const code = ref === null ? NaN : ref[1] !== undefined ? parseInt(ref[1], 16) : Number(ref[2]);
  if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
    throw new XmlSyntaxError(`unknown entity ${whole}`);
  }
  return String.fromCodePoint(code);
}

/** Decodes XML's five entities and character references, and refuses declared and unknown entities. */
const entityDecoder = {
  reset(): void {},
  setXmlVersion(): void {},
  setExternalEntities(): void {},
  addInputEntities(entities: Record<string, string>): void {
    const names = Object.keys(entities);
    if (names.length > 0) throw new XmlSyntaxError(`the DOCTYPE declares entities (${names.join(", ")})`);
  },
  decode(text: string): string {
    return text.includes("&") ? text.replace(/&([^;&]*);/g, decodeReference) : text;
  },
};

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const TEXT = "#text";
const CDATA = "#cdata";

function toElement(node: OrderedNode): XmlElement | null {
  const name = Object.keys(node).find((k) => k !== ":@");
  if (name === undefined || name.startsWith("?") || name.startsWith("#")) return null;
  const raw = node[name];
  // Without a prototype, so that an attribute a document lacks never reads as an Object method.
  const attrs: Record<string, string> = Object.assign(Object.create(null), node[":@"]);
  const element: XmlElement = { name, attrs, children: [], text: "" };
  for (const child of Array.isArray(raw) ? (raw as OrderedNode[]) : []) {
    if (TEXT in child) element.text += String(child[TEXT]);
    else if (CDATA in child) element.text += cdataText(child[CDATA]);
    else {
      const sub = toElement(child);
      if (sub === null) continue;
      element.children.push(sub);
      element.text += sub.text;
    }
  }
  return element;
}

function cdataText(raw: unknown): string {
  return Array.isArray(raw) ? raw.map((part: OrderedNode) => String(part[TEXT] ?? "")).join("") : "";
}

/** Parses `text` into its root element; anything not well formed, or refused, is an XmlSyntaxError. */
export function readXml(text: string, options: XmlReadOptions = {}): XmlElement {
  if (options.maxChars !== undefined && text.length > options.maxChars) {
    throw new XmlSyntaxError(`it is longer than ${options.maxChars} characters`);
  }
  let parsed: OrderedNode[];
  try {
    const { XMLParser, XMLValidator } = xmlParser();
    const verdict = XMLValidator.validate(text);
    if (verdict !== true) {
      const { msg, line, col } = verdict.err;
      throw new XmlSyntaxError(msg, line, col);
    }
    parsed = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: "",
      parseAttributeValue: false,
      parseTagValue: false,
      trimValues: options.trim ?? false,
      cdataPropName: CDATA,
      entityDecoder,
      maxNestedTags: options.maxDepth ?? 100,
    }).parse(text) as OrderedNode[];
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw error;
    // The parser throws plain errors for what it refuses (nesting past the limit, a malformed DOCTYPE).
    throw new XmlSyntaxError(error instanceof Error ? error.message : String(error));
  }
  const [root, second] = parsed.map(toElement).filter((e): e is XmlElement => e !== null);
  if (root === undefined) throw new XmlSyntaxError("there is no root element");
  if (second !== undefined) throw new XmlSyntaxError(`a second root element <${second.name}>`);
  return root;
}
