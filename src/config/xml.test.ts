import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readXml, XmlSyntaxError } from "./xml.ts";

void test("elements, attributes and their text in document order, CDATA as written", () => {
  const root = readXml(
    '<?xml version="1.0"?><!-- c --><r a="x &amp; y"><s>one</s> two <![CDATA[<three> & ]]>&#x34;&#53;</r>',
  );
  assert.equal(root.name, "r");
  assert.equal(root.attrs["a"], "x & y");
  assert.deepEqual(
    root.children.map((c) => [c.name, c.text]),
    [["s", "one"]],
  );
  assert.equal(root.text, "one two <three> & 45");
  assert.equal(root.attrs["constructor"], undefined, "a missing attribute is missing");
});

void test("values are read as written unless trimming is asked for", () => {
  assert.equal(readXml('<r a=" x "> y </r>').attrs["a"], " x ");
  assert.equal(readXml('<r a=" x "> y </r>').text, " y ");
  assert.equal(readXml('<r a=" x "> y </r>', { trim: true }).attrs["a"], "x");
});

void test("entity declarations, unknown entities, a second root and deep nesting are refused", () => {
  const refused = (xml: string, why: RegExp, options = {}) =>
    assert.throws(
      () => readXml(xml, options),
      (e: unknown) => e instanceof XmlSyntaxError && why.test(e.message),
    );
  refused('<!DOCTYPE r [<!ENTITY e "v">]><r>&e;</r>', /declares entities/);
  refused('<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>', /entit/i);
  refused("<r>&nbsp;</r>", /unknown entity &nbsp;/);
  refused("<r>&#xD800;</r>", /unknown entity/);
  refused("<r/><r/>", /a second root element <r>/);
  refused(`<r>${"<a>".repeat(9)}${"</a>".repeat(9)}</r>`, /nested/, { maxDepth: 8 });
  refused("<r>12345</r>", /longer than 10 characters/, { maxChars: 10 });
  refused("<r><a></r>", /line 1/);
  assert.equal(readXml('<!DOCTYPE r SYSTEM "r.dtd"><r/>').name, "r", "a DOCTYPE without entities is fine");
});

void test("random text is an element or an XmlSyntaxError, nothing else", () => {
  const xmlish = fc.stringMatching(/^[<>/?!\-[\]a-z="' &;#x0-9CDATA\n]{0,80}$/);
  fc.assert(
    fc.property(fc.oneof(fc.string(), xmlish), (text) => {
      try {
        return typeof readXml(text).name === "string";
      } catch (error) {
        return error instanceof XmlSyntaxError;
      }
    }),
    { numRuns: 2000 },
  );
});
