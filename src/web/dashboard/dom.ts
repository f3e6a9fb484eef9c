/** Building and formatting page elements: the only way the dashboard writes to the document. */

type Child = Node | string | null | undefined;
type AttrValue = string | number | boolean | null | undefined;

/** Attributes of a new element; `text`, `className` and `style` are set as properties, the rest as attributes. */
export interface ElementAttrs {
  text?: AttrValue;
  className?: string;
  style?: Partial<CSSStyleDeclaration>;
  [attribute: string]: AttrValue | Partial<CSSStyleDeclaration>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: ElementAttrs = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = String(value);
    // Through the CSSOM: the Content-Security-Policy allows no style attributes.
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined)
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function pill(text: string, kind: string, testid?: string): HTMLSpanElement {
  return el("span", { className: `pill ${kind}`, text, "data-testid": testid });
}

/** An element the page's markup declares; a missing one is a bug in the page, not in the data. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node as T;
}

export function ms(n: number): string {
  return `${Math.round(n).toLocaleString("en-US")} ms`;
}

/** Local time of day with milliseconds, "" for an unreadable time. */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}
