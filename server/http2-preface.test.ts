import { describe, expect, it } from "vitest";
import { HTTP2_PREFACE, classifyPreface } from "./http2-preface.js";

describe("classifyPreface", () => {
  const cases: [string, Uint8Array, ReturnType<typeof classifyPreface>][] = [
    ["empty", new Uint8Array(0), "more"],
    ["first byte of the preface", HTTP2_PREFACE.subarray(0, 1), "more"],
    ["all but the last byte", HTTP2_PREFACE.subarray(0, HTTP2_PREFACE.length - 1), "more"],
    ["the whole preface", HTTP2_PREFACE, "h2"],
    ["the preface and a SETTINGS frame", Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4, 0])]), "h2"],
    ["an HTTP/1.1 POST", Buffer.from("POST /disio.v1.AdminService/GetInfo HTTP/1.1\r\n"), "http1"],
    ["a PUT (same first letter as PRI)", Buffer.from("PUT / HTTP/1.1\r\n"), "http1"],
    ["a prefix that diverges late", Buffer.from("PRI * HTTP/1.1\r\n"), "http1"],
    ["random bytes", Buffer.from([0xde, 0xad, 0xbe, 0xef]), "http1"],
  ];
  for (const [name, head, want] of cases) {
    it(`${name} → ${want}`, () => {
      expect(classifyPreface(head)).toBe(want);
    });
  }
});
