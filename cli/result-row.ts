import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";

const CR = 13;
const LF = 10;
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
    out.ascii(KEY_UNIT);
    out.jsonString(r.unitId);
    out.ascii(KEY_INPUT);
    out.value(r.input, encodings.input);
    out.ascii(KEY_OUTPUT);
    out.value(r.output, encodings.output);
    out.ascii(KEY_HASH);
    out.jsonString(r.outputHash);
    if (r.finishTime) {
      out.ascii(KEY_TIME);
      out.isoTime(r.finishTime.seconds, r.finishTime.nanos);
      out.ascii(QUOTE);
    }
    out.ascii(KEY_COPIES);
    out.ascii(String(r.copiesSent));
    out.ascii(KEY_CURSOR);
    out.jsonString(r.cursor);
    out.ascii(END);
  }
  return out.buf.subarray(0, out.pos);
}

const KEY_UNIT = '{"unit":';
const KEY_INPUT = ',"input":';
const KEY_OUTPUT = ',"output":';
const KEY_HASH = ',"outputHash":';
const KEY_TIME = ',"finishTime":"';
const QUOTE = '"';
const KEY_COPIES = ',"copies":';
const KEY_CURSOR = ',"cursor":';
const END = "}\n";

/** The most bytes a value takes in a row. */
function valueSize(bytes: Uint8Array, encoding: Encoding): number {
  return encoding === Encoding.BYTES ? 4 * Math.ceil(bytes.length / 3) + 2 : bytes.length;
}

/**
 * Writes a page's rows. Short ASCII text is copied a character at a time: a `Buffer#write` per key
 * or id cost more than the copy (a native call each, 8 and more per row).
 */
class RowWriter {
  pos = 0;
  #seconds = -1n;
  #nanos = -1;
  #time = "";

  constructor(readonly buf: Buffer) {}

  /** Text known to be ASCII. */
  ascii(text: string): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** `text` as JSON.stringify writes it. */
  jsonString(text: string): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = 0x22;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        // Escapes or non-ASCII: JSON.stringify's own text, as UTF-8.
        this.pos = start + buf.write(JSON.stringify(text), start, "utf8");
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
  }

  /** A stored input or output as JSON text: verbatim (each run of line breaks as one space) or base64. */
  value(bytes: Uint8Array, encoding: Encoding): void {
    if (encoding === Encoding.BYTES) {
      this.buf[this.pos++] = 0x22;
      this.ascii(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"));
      this.buf[this.pos++] = 0x22;
      return;
    }
    if (bytes.indexOf(LF) === -1 && bytes.indexOf(CR) === -1) {
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
      return;
    }
    let inBreak = false;
    for (const byte of bytes) {
      const isBreak = byte === LF || byte === CR;
      if (!isBreak) this.buf[this.pos++] = byte;
      else if (!inBreak) this.buf[this.pos++] = 0x20;
      inBreak = isBreak;
    }
  }

  /** A Timestamp as Date#toISOString writes it, formatted once for a run of equal times. */
  isoTime(seconds: bigint, nanos: number): void {
    if (seconds !== this.#seconds || nanos !== this.#nanos) {
      this.#seconds = seconds;
      this.#nanos = nanos;
      this.#time = timestampDate({ seconds, nanos } as Timestamp).toISOString();
    }
    this.ascii(this.#time);
  }
}
