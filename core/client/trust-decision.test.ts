import { describe, expect, it } from "vitest";
import { TrustKeyMismatchError } from "./errors.js";
import type { TrustedKey } from "./key-memory.js";
import { trustDecision, type TrustContact } from "./trust-decision.js";

const URL_A = "http://grid.example:7200";
const URL_B = "http://other.example:7200";
const OLD = "b2xkLWtleQ==";
const NEW = "bmV3LWtleQ==";
const remembered: TrustedKey[] = [{ distributorUrl: URL_A, groupId: "g1", publicKey: OLD }];

function contact(overrides: Partial<TrustContact>): TrustContact {
  return { distributorUrl: URL_A, groupId: "g1", announced: OLD, pinned: undefined, ...overrides };
}

describe("trustDecision", () => {
  it("trusts and remembers the announced key on first contact", () => {
    expect(trustDecision(contact({ announced: NEW }), [])).toEqual({
      ok: true,
      publicKey: NEW,
      how: "first-use",
      remember: { distributorUrl: URL_A, groupId: "g1", publicKey: NEW },
    });
  });

  it("keeps a remembered key that the distributor announces again, without writing", () => {
    expect(trustDecision(contact({}), remembered)).toEqual({ ok: true, publicKey: OLD, how: "remembered", remember: undefined });
  });

  it("verifies with the remembered key when the distributor announces none", () => {
    expect(trustDecision(contact({ announced: undefined }), remembered)).toMatchObject({ ok: true, publicKey: OLD, how: "remembered" });
  });

  const refusals: [string, TrustContact, TrustedKey[], { source: string; trustedKey: string; announcedKey: string }][] = [
    ["a changed key for a remembered URL", contact({ announced: NEW }), remembered, { source: "remembered", trustedKey: OLD, announcedKey: NEW }],
    ["a changed key under a fresh group id for a remembered URL", contact({ announced: NEW, groupId: "fresh" }), remembered, { source: "remembered", trustedKey: OLD, announcedKey: NEW }],
    ["a new URL announcing a remembered group with another key", contact({ distributorUrl: URL_B, announced: NEW }), remembered, { source: "remembered", trustedKey: OLD, announcedKey: NEW }],
    ["a key that is not the pinned one", contact({ pinned: OLD, announced: NEW }), [], { source: "pinned", trustedKey: OLD, announcedKey: NEW }],
    ["a key that is not the pinned one, though remembered", contact({ pinned: OLD, announced: NEW }), [{ ...remembered[0]!, publicKey: NEW }], { source: "pinned", trustedKey: OLD, announcedKey: NEW }],
  ];
  for (const [name, input, memory, expected] of refusals) {
    it(`refuses ${name}`, () => {
      const decision = trustDecision(input, memory);
      expect(decision.ok).toBe(false);
      if (decision.ok) return;
      expect(decision.error).toBeInstanceOf(TrustKeyMismatchError);
      expect(decision.error).toMatchObject(expected);
    });
  }

  it("accepts a rotated key passed as the pinned key and replaces the remembered one", () => {
    expect(trustDecision(contact({ pinned: NEW, announced: NEW }), remembered)).toEqual({
      ok: true,
      publicKey: NEW,
      how: "pinned",
      remember: { distributorUrl: URL_A, groupId: "g1", publicKey: NEW },
    });
  });

  it("does not rewrite an unchanged pinned key", () => {
    expect(trustDecision(contact({ pinned: OLD }), remembered)).toMatchObject({ ok: true, how: "pinned", remember: undefined });
  });

  it("trusts a new URL of an unknown group on first use, and no key at all when none is announced", () => {
    expect(trustDecision(contact({ distributorUrl: URL_B, groupId: "g2", announced: NEW }), remembered)).toMatchObject({ ok: true, how: "first-use", publicKey: NEW });
    expect(trustDecision(contact({ distributorUrl: URL_B, announced: undefined }), remembered)).toEqual({ ok: true, publicKey: undefined, how: "none", remember: undefined });
  });

  it("names both keys in a remembered-key refusal", () => {
    const decision = trustDecision(contact({ announced: NEW }), remembered);
    expect(decision.ok ? "" : decision.error.message).toBe(`the manager key of ${URL_A} changed from ${OLD} to ${NEW}; trust the new key explicitly if its manager rotated it`);
  });
});
