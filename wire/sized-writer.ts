import { WireType } from "@bufbuild/protobuf/wire";

/**
 * Protobuf wire writing for hot paths: the caller computes a message's exact size with the size
 * helpers, allocates once, and writes fields straight into that buffer (no per-field allocations,
 * unlike protobuf-es's BinaryWriter with its fork/join chunks). Field numbers must be below 16
 * (one-byte tags). Runtime-neutral (no `node:` import): the browser and Node clients use it too.
 */

const utf8 = new TextEncoder();

/** Bytes of a varint holding a non-negative integer up to 2^53. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

/** Bytes of an int32 or int64 varint: negative values are sign-extended to ten bytes. */
export function int32Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}
export const int64Size = int32Size;

/** UTF-8 bytes of a string, counted in JS (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8SizeJs(value: string): number {
  let size = value.length;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) size += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size += 2;
      i += 1;
    } else size += 2;
  }
  return size;
}

const nodeBuffer = (globalThis as { Buffer?: { byteLength(value: string, encoding: "utf8"): number } }).Buffer;

/**
 * UTF-8 bytes of a string: Node's native `Buffer.byteLength` where there is one (the manager and
 * distributor encode many strings per unit; the JS count cost them ~1 s per 200,000 units), a JS
 * count in browsers.
 */
export const utf8Size: (value: string) => number = nodeBuffer === undefined ? utf8SizeJs : (value) => nodeBuffer.byteLength(value, "utf8");

/** Bytes of a non-empty string field with a one-byte tag (field numbers below 16); 0 when empty. */
export function stringFieldSize(value: string): number {
  if (value.length === 0) return 0;
  const length = utf8Size(value);
  return 1 + varintSize(length) + length;
}

/** Bytes of a length-delimited field of `length` bytes with a one-byte tag. */
export function lengthFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Writes protobuf wire format into a buffer sized in advance. */
export class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  tag(field: number, wireType: WireType): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  /** A signed varint (int32/int64): negative values as their 64-bit two's complement. */
  signedVarint(value: number): void {
    if (value >= 0) return this.varint(value);
    let big = BigInt.asUintN(64, BigInt(value));
    while (big >= 0x80n) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  bytes(value: Uint8Array): void {
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A string's UTF-8 bytes, `size` of them (from {@link utf8Size}). */
  utf8(value: string, size: number): void {
    if (size === value.length) {
      for (let i = 0; i < size; i++) this.buf[this.pos + i] = value.charCodeAt(i);
    } else utf8.encodeInto(value, this.buf.subarray(this.pos, this.pos + size));
    this.pos += size;
  }

  stringField(field: number, value: string): void {
    if (value.length === 0) return;
    const size = utf8Size(value);
    this.tag(field, WireType.LengthDelimited);
    this.varint(size);
    this.utf8(value, size);
  }

  bytesField(field: number, value: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint(value.length);
    this.bytes(value);
  }

  int32Field(field: number, value: number): void {
    this.tag(field, WireType.Varint);
    this.signedVarint(value);
  }

  int64Field(field: number, value: number): void {
    this.int32Field(field, value);
  }
}
