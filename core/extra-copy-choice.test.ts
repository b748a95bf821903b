import { describe, expect, it } from "vitest";
import { chooseExtraCopies, type ExtraCopyCandidate } from "./extra-copy-choice.js";

const unit = (unitId: string, inHand: number, made: number, holderTags: string[] = ["other"]): ExtraCopyCandidate => ({ unitId, inHand, made, holderTags });

describe("chooseExtraCopies", () => {
  it("prefers the units with the fewest copies in hands, then the fewest extras, then the oldest", () => {
    const candidates = [unit("u1", 2, 0), unit("u2", 0, 1), unit("u3", 1, 0), unit("u4", 0, 0), unit("u5", 0, 0)];
    expect(chooseExtraCopies(candidates, ["me"], 10, 3)).toEqual(["u4", "u5", "u2", "u3", "u1"]);
    expect(chooseExtraCopies(candidates, ["me"], 2, 3)).toEqual(["u4", "u5"]);
  });

  it("never gives a unit to a volunteer that already held or computed a copy of it", () => {
    const candidates = [unit("u1", 0, 0, ["me"]), unit("u2", 0, 0, ["other", "host-a"]), unit("u3", 1, 0, ["other"])];
    expect(chooseExtraCopies(candidates, ["me", "host-b"], 10, 2)).toEqual(["u2", "u3"]);
    expect(chooseExtraCopies(candidates, ["you", "host-a"], 10, 2)).toEqual(["u1", "u3"]);
  });

  it("stops at the per-unit cap, and gives nothing when extras are off or no credit is left", () => {
    const candidates = [unit("u1", 0, 2), unit("u2", 0, 1)];
    expect(chooseExtraCopies(candidates, ["me"], 10, 2)).toEqual(["u2"]);
    for (const [max, perUnit] of [[10, 0], [0, 2], [-1, 2]] as const) expect(chooseExtraCopies(candidates, ["me"], max, perUnit)).toEqual([]);
  });
});
