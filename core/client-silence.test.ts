import { describe, expect, it } from "vitest";
import { SILENT_HEARTBEATS, clientSilent } from "./client-silence.js";

describe("clientSilent", () => {
  const heartbeatMs = 1_000;
  const limit = SILENT_HEARTBEATS * heartbeatMs;
  const cases: Array<[string, { lastHeardMs: number }, number, boolean]> = [
    ["heard just now", { lastHeardMs: 10_000 }, 10_000, false],
    ["silent exactly the limit", { lastHeardMs: 10_000 }, 10_000 + limit, false],
    ["silent past the limit", { lastHeardMs: 10_000 }, 10_001 + limit, true],
  ];
  for (const [name, client, now, silent] of cases) {
    it(name, () => expect(clientSilent(client, now, heartbeatMs)).toBe(silent));
  }
});
