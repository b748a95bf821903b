import { describe, expect, it } from "vitest";
import { redirectPeer } from "./redirect-peer.js";

const peer = (distributorId: string, region: string, freeSlots: number, publicUrl = `http://${distributorId}`) => ({ distributorId, region, freeSlots, publicUrl });

describe("redirectPeer", () => {
  it("prefers our region, then the most free slots", () => {
    const peers = [peer("a", "us", 100), peer("b", "eu", 2), peer("c", "eu", 5)];
    expect(redirectPeer(peers, { distributorId: "me", region: "eu" })?.distributorId).toBe("c");
    expect(redirectPeer(peers, { distributorId: "me", region: "ap" })?.distributorId).toBe("a");
  });
  it("skips ourselves, full peers and peers without a URL", () => {
    const peers = [peer("me", "eu", 10), peer("full", "eu", 0), peer("nourl", "eu", 9, "")];
    expect(redirectPeer(peers, { distributorId: "me", region: "eu" })).toBeUndefined();
  });
});
