import { describe, expect, it } from "vitest";
import { SILENT_HEARTBEATS, clientSilent } from "./client-silence.js";

describe("clientSilent", () => {
  const heartbeatMs = 1_000;
  const limit = SILENT_HEARTBEATS * heartbeatMs;
  const cases: Array<[string, { holding: number; lastHeardMs: number }, number, boolean]> = [
    ["heard just now", { holding: 5, lastHeardMs: 10_000 }, 10_000, false],
    ["silent exactly the limit", { holding: 5, lastHeardMs: 10_000 }, 10_000 + limit, false],
    ["silent past the limit", { holding: 5, lastHeardMs: 10_000 }, 10_001 + limit, true],
    ["silent for ages, holding nothing", { holding: 0, lastHeardMs: 0 }, 10_000_000, false],
  ];
  for (const [name, client, now, silent] of cases) {
    it(name, () => expect(clientSilent(client, now, heartbeatMs)).toBe(silent));
  }
});
