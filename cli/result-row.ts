import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";

const CR = 13;
const LF = 10;
/** Characters JSON.stringify escapes in a string (plus lone surrogates, checked separately). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/**
 * Bytes a row adds around its values: keys, quotes, punctuation, a finish time and a copy count.
 * Strings take at most 6 bytes per UTF-16 unit (`\u001f`).
 */
const ROW_OVERHEAD = 128;

/**
 * The lines of `disio results` for a page of results, in one buffer: per result
 * `{"unit","input","output","outputHash","finishTime","copies","cursor"}` and a newline (finishTime
 * left out when unset). JSON projects' stored values are written verbatim (the manager validated
 * them; outputs are in canonical form, which re-parsing would break: integer-like keys reorder,
 * large integers round), bytes projects' as base64 strings. Line breaks, which JSON allows only as
 * whitespace between tokens, become spaces so a row stays one line.
 *
 * Why bytes, not strings: `results --out` formats 100,000 rows a second and more. Inputs and outputs
 * are views of the page as received; they are copied into the rows without becoming strings, and a
 * page is one `write`. The same finish time (results finish in batches) is formatted once.
 */
export function resultRows(results: readonly Result[], encodings: { input: Encoding; output: Encoding }): Buffer {
  let capacity = 0;
  for (const r of results) capacity += ROW_OVERHEAD + 6 * (r.unitId.length + r.outputHash.length + r.cursor.length) + valueSize(r.input, encodings.input) + valueSize(r.output, encodings.output);
  const out = new RowWriter(Buffer.allocUnsafe(capacity));
  for (const r of results) {
    out.ascii('{"unit":');
    out.jsonString(r.unitId);
    out.ascii(',"input":');
    out.value(r.input, encodings.input);
    out.ascii(',"output":');
    out.value(r.output, encodings.output);
    out.ascii(',"outputHash":');
    out.jsonString(r.outputHash);
    if (r.finishTime) {
      out.ascii(',"finishTime":"');
      out.ascii(out.isoTime(r.finishTime.seconds, r.finishTime.nanos));
      out.ascii('"');
    }
    out.ascii(`,"copies":${r.copiesSent},"cursor":`);
    out.jsonString(r.cursor);
    out.ascii("}\n");
  }
  return out.buf.subarray(0, out.pos);
}

/** The most bytes a value takes in a row. */
function valueSize(bytes: Uint8Array, encoding: Encoding): number {
  return encoding === Encoding.BYTES ? 4 * Math.ceil(bytes.length / 3) + 2 : bytes.length;
}

class RowWriter {
  pos = 0;
  #seconds = -1n;
  #nanos = -1;
  #time = "";

  constructor(readonly buf: Buffer) {}

  ascii(text: string): void {
    this.pos += this.buf.write(text, this.pos, "latin1");
  }

  /** `text` as JSON.stringify writes it. */
  jsonString(text: string): void {
    if (NEEDS_ESCAPE.test(text)) {
      this.pos += this.buf.write(JSON.stringify(text), this.pos, "utf8");
      return;
    }
    this.buf[this.pos++] = 0x22;
    this.pos += this.buf.write(text, this.pos, "utf8");
    this.buf[this.pos++] = 0x22;
  }

  /** A stored input or output as JSON text: verbatim (line breaks as spaces) or base64. */
  value(bytes: Uint8Array, encoding: Encoding): void {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (encoding === Encoding.BYTES) {
      this.buf[this.pos++] = 0x22;
      this.pos += this.buf.write(view.toString("base64"), this.pos, "latin1");
      this.buf[this.pos++] = 0x22;
      return;
    }
    const start = this.pos;
    this.pos += view.copy(this.buf, this.pos);
    if (view.indexOf(LF) === -1 && view.indexOf(CR) === -1) return;
    // Each run of line breaks becomes one space.
    let to = start;
    let inBreak = false;
    for (let from = start; from < this.pos; from++) {
      const byte = this.buf[from]!;
      const isBreak = byte === LF || byte === CR;
      if (!isBreak) this.buf[to++] = byte;
      else if (!inBreak) this.buf[to++] = 0x20;
      inBreak = isBreak;
    }
    this.pos = to;
  }

  /** A Timestamp as Date#toISOString writes it, formatted once for a run of equal times. */
  isoTime(seconds: bigint, nanos: number): string {
    if (seconds !== this.#seconds || nanos !== this.#nanos) {
      this.#seconds = seconds;
      this.#nanos = nanos;
      this.#time = timestampDate({ seconds, nanos } as Timestamp).toISOString();
    }
    return this.#time;
  }
}
