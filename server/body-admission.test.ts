import { describe, expect, it } from "vitest";
import { refuseBody } from "./body-admission.js";

describe("refuseBody", () => {
  const limits = { methodMaxBytes: 1000, inFlightMaxBytes: 5000 };
  const cases: [string, [bytes: number, held: number, inFlight: number], "ok" | "method" | "busy"][] = [
    ["an empty body", [0, 0, 0], "ok"],
    ["exactly the method limit", [1000, 0, 0], "ok"],
    ["one byte over the method limit", [1001, 0, 0], "method"],
    ["over the method limit even with room in the budget", [1001, 1000, 1000], "method"],
    ["filling the budget exactly", [1000, 0, 4000], "ok"],
    ["one byte past the budget", [1000, 0, 4001], "busy"],
    ["growing by what fits", [900, 400, 4500], "ok"],
    ["growing past the budget", [901, 400, 4500], "busy"],
    ["no growth on a full budget", [400, 400, 5000], "ok"],
  ];
  for (const [name, [bytes, held, inFlight], want] of cases) {
    it(`${name} → ${want}`, () => {
      const reason = refuseBody(bytes, held, inFlight, limits);
      if (want === "ok") expect(reason).toBeUndefined();
      else if (want === "method") expect(reason).toBe("request body larger than 1000 bytes, the limit of this method");
      else expect(reason).toBe("server busy: too many request bytes in flight, retry later");
    });
  }
});
