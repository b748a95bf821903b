import { describe, expect, it } from "vitest";
import { clientIdentityOf, identityTags } from "./client-identity.js";

describe("clientIdentityOf", () => {
  it("hashes the key and keeps a routable host", () => {
    const id = clientIdentityOf("0123456789abcdef0123", "203.0.113.7");
    expect(id.clientKey).toMatch(/^k-[0-9a-f]{32}$/);
    expect(id.clientKey).not.toContain("0123456789abcdef");
    expect(id.clientHost).toBe("203.0.113.7");
    expect(clientIdentityOf("0123456789abcdef0123", "::ffff:198.51.100.2")).toEqual({ clientKey: id.clientKey, clientHost: "198.51.100.2" });
  });
  it("counts loopback and unknown addresses as unknown hosts", () => {
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1", ""]) expect(clientIdentityOf("", address)).toEqual({ clientKey: "", clientHost: "" });
  });
  it("rejects keys that are too short, too long or not printable", () => {
    for (const key of ["short", "x".repeat(129), "0123456789abcdef\n"]) expect(() => clientIdentityOf(key, "")).toThrow(/client_key/);
  });
});

describe("identityTags", () => {
  it("names a keyed client by its key, a keyless one by its session, and adds a known host", () => {
    expect(identityTags("s1", { clientKey: "k-1", clientHost: "" })).toEqual(["k:k-1"]);
    expect(identityTags("s1", { clientKey: "", clientHost: "10.1.1.1" })).toEqual(["s:s1", "h:10.1.1.1"]);
  });
});
