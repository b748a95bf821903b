/**
 * Protobuf wire reading over one buffer, for the hand decoders of hot paths (protobuf-es's
 * reflective fromBinary costs several µs per message). Runtime-neutral (no `node:` import): the
 * browser and Node clients use it too. Errors name `what` is being read ("malformed Result: …").
 */

/** Wire type of a varint field. */
export const VARINT = 0;
/** Wire type of a length-delimited field (strings, bytes, messages). */
export const LEN = 2;

const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** A cursor over protobuf wire bytes. */
export class WireReader {
  pos: number;
  readonly buf: Uint8Array;

  /** Reads `buf` from `pos`; errors say "malformed `what`". */
  constructor(
    buf: Uint8Array,
    private readonly what: string,
    pos = 0,
  ) {
    this.buf = buf;
    this.pos = pos;
  }

  /** The error for bytes that are not a well-formed message. */
  malformed(why: string): Error {
    return new Error(`malformed ${this.what}: ${why}`);
  }

  /** A varint up to 2^53 (lengths, tags, uint32, bool). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw this.malformed("truncated varint");
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  }

  /** A length prefix, checked against the bytes left. */
  length(): number {
    const length = this.varint();
    if (this.pos + length > this.buf.length) throw this.malformed("a length runs past the message");
    return length;
  }

  /** An int64 varint as a bigint (negative values are ten-byte two's complement). */
  int64(): bigint {
    const start = this.pos;
    const value = this.varint();
    return this.pos - start < 8 ? BigInt(value) : this.#bigVarint(start);
  }

  /** An int32/int64 varint as a number (negative int32 values are ten bytes). */
  int64Number(): number {
    const start = this.pos;
    const value = this.varint();
    return this.pos - start < 8 ? value : Number(this.#bigVarint(start));
  }

  #bigVarint(start: number): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = start; i < this.pos; i++, shift += 7n) value |= BigInt(this.buf[i]! & 0x7f) << shift;
    return BigInt.asIntN(64, value);
  }

  /** `length` bytes as UTF-8 text (invalid sequences become U+FFFD, as in protobuf-es). */
  string(length: number): string {
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    if (length <= 32) {
      // Ids and hashes: short ASCII, where building the string here beats a TextDecoder call.
      for (let i = start; i < end; i++) if (this.buf[i]! >= 0x80) return text.decode(this.buf.subarray(start, end));
      return String.fromCharCode.apply(null, this.buf.subarray(start, end) as unknown as number[]);
    }
    return text.decode(this.buf.subarray(start, end));
  }

  /** `length` bytes, a view of the buffer (no copy). */
  bytes(length: number): Uint8Array {
    const bytes = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }

  /** Skips a field's data of `wireType` (its tag already read). */
  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else if (wireType === LEN) this.pos += this.length();
    else throw this.malformed(`wire type ${wireType}`);
    if (this.pos > this.buf.length) throw this.malformed("a field runs past the message");
  }

  /**
   * A `google.protobuf.Timestamp` or `Duration` of `length` bytes (both: seconds = 1, nanos = 2)
   * into `into`, which a repeated field merges into as protobuf does.
   */
  secondsNanos<T extends { seconds: bigint; nanos: number }>(length: number, into: T): T {
    const end = this.pos + length;
    while (this.pos < end) {
      const tag = this.varint();
      if (tag === (1 << 3) + VARINT) into.seconds = this.int64();
      else if (tag === (2 << 3) + VARINT) into.nanos = this.int64Number() | 0;
      else this.skip(tag & 7);
    }
    this.expectEnd(end);
    return into;
  }

  /** Checks that a message read from `pos` to `end` ended exactly there. */
  expectEnd(end: number): void {
    if (this.pos !== end) throw this.malformed("a field runs past its message");
  }
}
