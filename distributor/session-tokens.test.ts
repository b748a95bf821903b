import { describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../core/errors.js";
import { createSessionTokens } from "./session-tokens.js";

describe("session tokens", () => {
  const tokens = createSessionTokens(new Uint8Array(32).fill(7));

  it("verifies a token it issued, also after a restart with the same secret", () => {
    const { clientId, sessionToken } = tokens.issue();
    expect(tokens.verify(sessionToken)).toBe(clientId);
    expect(createSessionTokens(new Uint8Array(32).fill(7)).verify(sessionToken)).toBe(clientId);
  });

  it("rejects missing, malformed, forged and foreign tokens", () => {
    const { clientId, sessionToken } = tokens.issue();
    const other = createSessionTokens(new Uint8Array(32).fill(8)).issue().sessionToken;
    for (const bad of [undefined, "", "nodot", `.${sessionToken.split(".")[1]}`, `someone-else.${sessionToken.split(".")[1]}`, `${clientId}.AAAA`, other]) {
      expect(() => tokens.verify(bad)).toThrow(UnauthenticatedError);
    }
  });
});
