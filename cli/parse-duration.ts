const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `60s`, `5m`, `2h`, `1d` or a bare number of seconds into
 * milliseconds. Throws `TypeError` naming the text when it is not a positive duration.
 */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new TypeError(`not a duration: ${JSON.stringify(text)} (use e.g. 90s, 5m, 2h)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? "s"]!);
}
