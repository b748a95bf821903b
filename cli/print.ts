import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

/** Writes one line to stdout. */
export function printLine(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a value as one JSON line to stdout (for `--json`). */
export function printJson(value: unknown): void {
  printLine(JSON.stringify(value));
}

/** A proto message in its canonical JSON form (camelCase fields, enum names, RFC 3339 times). */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): unknown {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

/** Renders rows as a left-aligned text table with a header line. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Strips a proto enum prefix for display: `UNIT_STATE_DONE` → `done`. */
export function enumLabel(name: string | undefined, prefix: string): string {
  return (name ?? "").replace(prefix, "").toLowerCase();
}
