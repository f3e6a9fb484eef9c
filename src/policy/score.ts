import { INFINITY_SCORE } from "../config/schema.ts";

export const INFINITY = INFINITY_SCORE;

/**
 * Pacemaker's score addition: -INFINITY absorbs everything (a ban beats any preference), then +INFINITY;
 * finite sums are clamped to +-INFINITY as Pacemaker's pcmk__add_scores does.
 */
export function addScores(a: number, b: number): number {
  if (a <= -INFINITY || b <= -INFINITY) return -INFINITY;
  if (a >= INFINITY || b >= INFINITY) return INFINITY;
  return Math.max(-INFINITY, Math.min(INFINITY, a + b));
}

/** A colocated resource's preferences weigh score/INFINITY of their value (Pacemaker's colocation factor). */
export function scaleScore(score: number, factor: number): number {
  return factor >= 1 ? score : Math.round(score * factor);
}
