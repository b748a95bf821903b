import type { DescFile } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { answerReflection, createReflectionIndex, type ReflectionAnswer } from "./reflection-service.js";

const index = createReflectionIndex([DistributorService, AdminService, AdminService]);
const encode = (file: DescFile): Uint8Array => new TextEncoder().encode(file.proto.name);
const names = (answer: ReflectionAnswer): string[] => {
  if (answer.case !== "fileDescriptorResponse") throw new Error(`got ${answer.case}`);
  return answer.value.fileDescriptorProto.map((b) => new TextDecoder().decode(b));
};

describe("createReflectionIndex", () => {
  it("lists each service once, sorted", () => {
    expect(index.services).toEqual(["disio.v1.AdminService", "disio.v1.DistributorService"]);
  });

  it("knows files transitively, with well-known types", () => {
    expect([...index.fileByName.keys()]).toEqual(
      expect.arrayContaining(["disio/v1/admin_service.proto", "disio/v1/common.proto", "google/protobuf/timestamp.proto"]),
    );
  });

  const symbols: [string, string][] = [
    ["disio.v1.AdminService", "disio/v1/admin_service.proto"],
    ["disio.v1.AdminService.GetInfo", "disio/v1/admin_service.proto"],
    ["disio.v1.GetInfoResponse", "disio/v1/admin_service.proto"],
    ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
  ];
  for (const [symbol, file] of symbols) {
    it(`finds ${symbol} in ${file}`, () => {
      expect(index.fileBySymbol.get(symbol)?.proto.name).toBe(file);
    });
  }
});

describe("answerReflection", () => {
  it("lists services", () => {
    const answer = answerReflection(index, { case: "listServices", value: "" }, new Set(), encode);
    expect(answer).toEqual({
      case: "listServicesResponse",
      value: { service: [{ name: "disio.v1.AdminService" }, { name: "disio.v1.DistributorService" }] },
    });
  });

  it("sends a file first, then imports not yet sent on the stream", () => {
    const sent = new Set<string>();
    const first = names(answerReflection(index, { case: "fileContainingSymbol", value: "disio.v1.AdminService" }, sent, encode));
    expect(first[0]).toBe("disio/v1/admin_service.proto");
    expect(first).toContain("google/protobuf/timestamp.proto");
    expect(new Set(first).size).toBe(first.length);
    const again = names(answerReflection(index, { case: "fileByFilename", value: "disio/v1/admin_service.proto" }, sent, encode));
    expect(again).toEqual(["disio/v1/admin_service.proto"]);
  });

  const misses = [
    { case: "fileContainingSymbol", value: "nope.Nothing" },
    { case: "fileByFilename", value: "nope.proto" },
    { case: "allExtensionNumbersOfType", value: "nope.Nothing" },
    { case: "fileContainingExtension", value: { containingType: "disio.v1.Project", extensionNumber: 1000 } },
  ] as const;
  for (const query of misses) {
    it(`${query.case} of an unknown name → NOT_FOUND`, () => {
      const answer = answerReflection(index, query, new Set(), encode);
      expect(answer.case).toBe("errorResponse");
      if (answer.case === "errorResponse") expect(answer.value.errorCode).toBe(5);
    });
  }

  it("reports no extensions of a known message", () => {
    const answer = answerReflection(index, { case: "allExtensionNumbersOfType", value: "disio.v1.Project" }, new Set(), encode);
    expect(answer).toEqual({ case: "allExtensionNumbersResponse", value: { baseTypeName: "disio.v1.Project", extensionNumber: [] } });
  });

  it("an empty request → INVALID_ARGUMENT", () => {
    const answer = answerReflection(index, { case: undefined }, new Set(), encode);
    expect(answer.case === "errorResponse" && answer.value.errorCode).toBe(3);
  });
});
