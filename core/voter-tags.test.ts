import { describe, expect, it } from "vitest";
import { distinctVoters, voterTags } from "./voter-tags.js";

describe("voterTags", () => {
  it("names a keyed client by its key and host", () => {
    expect(voterTags({ clientKey: "k-1", clientHost: "10.0.0.2", distributorId: "d1" })).toEqual(["k:k-1", "h:10.0.0.2"]);
  });
  it("gives every keyless client of a distributor one voter", () => {
    expect(voterTags({ distributorId: "d1" })).toEqual(["anon:d1"]);
    expect(voterTags({ clientKey: "", clientHost: "", distributorId: "d2" })).toEqual(["anon:d2"]);
  });
});

describe("distinctVoters", () => {
  const a = voterTags({ clientKey: "a", distributorId: "d1" });
  const a2 = voterTags({ clientKey: "a", clientHost: "10.0.0.9", distributorId: "d2" });
  const b = voterTags({ clientKey: "b", distributorId: "d1" });
  const bSameHost = voterTags({ clientKey: "b", clientHost: "10.0.0.9", distributorId: "d1" });
  const c = voterTags({ clientKey: "c", clientHost: "10.0.0.9", distributorId: "d1" });
  const anon = voterTags({ distributorId: "d1" });
  const cases: Array<[name: string, voters: Array<readonly string[] | undefined>, want: number]> = [
    ["two clients", [a, b], 2],
    ["one client twice (two sessions of one install)", [a, a], 1],
    ["one key through two distributors", [a, a2], 1],
    ["two keys on one host", [bSameHost, c], 1],
    ["two keyless sessions", [anon, anon], 1],
    ["unknown voters count each", [undefined, undefined], 2],
    ["three with a Sybil pair", [a, b, a], 2],
  ];
  for (const [name, voters, want] of cases) it(`${name} → ${want}`, () => expect(distinctVoters(voters)).toBe(want));
});
