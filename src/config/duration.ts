import { ConfigError } from "./errors.ts";

const unitMs: Readonly<Record<string, number>> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
};

const ACCEPTED_FORMS =
  "use a number with a unit (500ms, 10s, 2min or 2m, 1h), a bare number of seconds (10), or ISO 8601 (PT1M30S)";

/** Pacemaker's crm_get_msec forms: a number with an optional unit; a bare number means seconds. */
const unitForm = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;
/** ISO 8601 durations without years and months, whose length in ms is not fixed. */
const isoForm =
  /^p(?:(\d+(?:\.\d+)?)d)?(?:t(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?)?$/;

function invalid(text: string, why: string): ConfigError {
  const shown = text.length > 60 ? `${JSON.stringify(text.slice(0, 60))}...` : JSON.stringify(text);
  return new ConfigError("FLOATIP_E_DURATION_INVALID", `${shown} ${why}; ${ACCEPTED_FORMS}`);
}

function toWholeMs(text: string, total: number): number {
  // Decimal fractions such as 0.1s carry binary rounding noise; anything that close is meant as whole.
  const rounded = Math.round(total);
  if (!Number.isSafeInteger(rounded)) throw invalid(text, "is too long");
  if (Math.abs(total - rounded) > 1e-6 * Math.max(1, rounded)) {
    throw invalid(text, "is not a whole number of milliseconds");
  }
  return rounded;
}

/** Parses a duration as pcs and Pacemaker accept it and returns whole milliseconds. */
export function parseDuration(text: string): number {
  const normalized = text.trim().toLowerCase();
  const plain = unitForm.exec(normalized);
  if (plain) {
    const [, amount = "", unit = ""] = plain;
    const factor = unit === "" ? unitMs["s"] : unitMs[unit];
    if (factor === undefined) throw invalid(text, `has an unknown unit '${unit}'`);
    return toWholeMs(text, Number(amount) * factor);
  }
  const iso = isoForm.exec(normalized);
  if (iso && normalized !== "p" && !normalized.endsWith("t")) {
    const [, days, hours, minutes, seconds] = iso;
    const part = (value: string | undefined, factor: number) =>
      value === undefined ? 0 : Number(value) * factor;
    const total =
      part(days, 86_400_000) + part(hours, 3_600_000) + part(minutes, 60_000) + part(seconds, 1000);
    return toWholeMs(text, total);
  }
  throw invalid(text, "is not a duration");
}

/** The shortest exact pcs form of a duration: 2min, 10s, 500ms. Inverse of parseDuration. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`duration must be a whole, non-negative number of milliseconds, got ${ms}`);
  }
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
