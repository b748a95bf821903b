import type { DescExtension, DescFile, DescMessage, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** What reflection knows: the services served and every file they need, by name and by symbol. */
export interface ReflectionIndex {
  /** Fully-qualified names of the services served, reflection included, sorted. */
  readonly services: readonly string[];
  /** Files by their path, e.g. `disio/v1/common.proto`. */
  readonly fileByName: ReadonlyMap<string, DescFile>;
  /** Files by each fully-qualified symbol they declare: types, services, `Service.Method`, extensions. */
  readonly fileBySymbol: ReadonlyMap<string, DescFile>;
  /** Every extension the indexed files declare. */
  readonly extensions: readonly DescExtension[];
}

/** A reflection request's `message_request` oneof, the same in v1 and v1alpha. */
export type ReflectionQuery =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

/** A reflection response's `message_response` oneof, the same in v1 and v1alpha. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;

/** Indexes the files of `services` and, transitively, every file they import. */
export function createReflectionIndex(services: readonly DescService[]): ReflectionIndex {
  const fileByName = new Map<string, DescFile>();
  const fileBySymbol = new Map<string, DescFile>();
  const extensions: DescExtension[] = [];
  const addMessage = (file: DescFile, message: DescMessage): void => {
    fileBySymbol.set(message.typeName, file);
    for (const e of message.nestedEnums) fileBySymbol.set(e.typeName, file);
    for (const x of message.nestedExtensions) addExtension(file, x);
    for (const m of message.nestedMessages) addMessage(file, m);
  };
  const addExtension = (file: DescFile, extension: DescExtension): void => {
    fileBySymbol.set(extension.typeName, file);
    extensions.push(extension);
  };
  const addFile = (file: DescFile): void => {
    if (fileByName.has(file.proto.name)) return;
    fileByName.set(file.proto.name, file);
    for (const e of file.enums) fileBySymbol.set(e.typeName, file);
    for (const m of file.messages) addMessage(file, m);
    for (const x of file.extensions) addExtension(file, x);
    for (const s of file.services) {
      fileBySymbol.set(s.typeName, file);
      for (const m of s.methods) fileBySymbol.set(`${s.typeName}.${m.name}`, file);
    }
    for (const dependency of file.dependencies) addFile(dependency);
  };
  for (const service of services) addFile(service.file);
  const names = [...new Set(services.map((s) => s.typeName))].sort();
  return { services: names, fileByName, fileBySymbol, extensions };
}

/**
 * Answers one reflection query. File answers carry the file asked for and those of its transitive
 * imports not yet sent on this stream (`sent` is the stream's memory), as grpc-go does.
 */
export function answerReflection(
  index: ReflectionIndex,
  query: ReflectionQuery,
  sent: Set<string>,
  encode: (file: DescFile) => Uint8Array,
): ReflectionAnswer {
  switch (query.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    case "fileByFilename":
      return filesAnswer(index.fileByName.get(query.value), `file ${query.value}`, sent, encode);
    case "fileContainingSymbol":
      return filesAnswer(index.fileBySymbol.get(query.value), `symbol ${query.value}`, sent, encode);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = query.value;
      const extension = index.extensions.find(
        (x) => x.extendee.typeName === containingType && x.number === extensionNumber,
      );
      return filesAnswer(extension?.file, `extension ${extensionNumber} of ${containingType}`, sent, encode);
    }
    case "allExtensionNumbersOfType": {
      if (!index.fileBySymbol.has(query.value)) return notFound(`type ${query.value}`);
      const extensionNumber = index.extensions
        .filter((x) => x.extendee.typeName === query.value)
        .map((x) => x.number);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: query.value, extensionNumber } };
    }
    default:
      return {
        case: "errorResponse",
        value: { errorCode: GRPC_INVALID_ARGUMENT, errorMessage: "empty reflection request" },
      };
  }
}

function filesAnswer(
  file: DescFile | undefined,
  what: string,
  sent: Set<string>,
  encode: (file: DescFile) => Uint8Array,
): ReflectionAnswer {
  if (file === undefined) return notFound(what);
  const out: Uint8Array[] = [encode(file)];
  sent.add(file.proto.name);
  const visit = (f: DescFile): void => {
    for (const dependency of f.dependencies) {
      if (sent.has(dependency.proto.name)) continue;
      sent.add(dependency.proto.name);
      out.push(encode(dependency));
      visit(dependency);
    }
  };
  visit(file);
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
}

function notFound(what: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: GRPC_NOT_FOUND, errorMessage: `${what} not found` } };
}

/**
 * Registers `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`
 * on `router`, describing every service registered on it before this call, so `buf curl` and
 * grpcurl need no local schema. Call it after the application's routes. Serialised descriptors are
 * cached per file.
 */
export function registerReflection(router: ConnectRouter): void {
  const served = router.handlers.map((h) => h.service);
  const index = createReflectionIndex([...served, ServerReflectionV1, ServerReflectionV1alpha]);
  const bytes = new Map<DescFile, Uint8Array>();
  const encode = (file: DescFile): Uint8Array => {
    let b = bytes.get(file);
    if (b === undefined) {
      b = toBinary(FileDescriptorProtoSchema, file.proto);
      bytes.set(file, b);
    }
    return b;
  };
  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const req of requests) {
        yield {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answerReflection(index, req.messageRequest, sent, encode),
        };
      }
    },
  });
  router.service(ServerReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const req of requests) {
        yield {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answerReflection(index, req.messageRequest, sent, encode),
        };
      }
    },
  });
}
