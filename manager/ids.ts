/** Prefixes of the manager's opaque ids: project, unit, copy, distributor. */
export type IdKind = "p" | "u" | "c" | "d";

/** An opaque id: the kind's prefix and a base-36 sequence number. */
export function formatId(kind: IdKind, seq: number): string {
  return kind + seq.toString(36);
}

/** The sequence number of an id of this kind, or undefined when it is not one. */
export function parseId(kind: IdKind, id: string): number | undefined {
  if (id.length < 2 || id.length > 13 || id[0] !== kind) return undefined;
  const body = id.slice(1);
  if (!/^[0-9a-z]+$/.test(body)) return undefined;
  const seq = Number.parseInt(body, 36);
  return Number.isSafeInteger(seq) && seq > 0 && formatId(kind, seq) === id ? seq : undefined;
}
