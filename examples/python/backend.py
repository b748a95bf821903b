"""A small dis.io backend in Python: creates a project, adds units and streams the results to the end.

It speaks gRPC (h2c) to the manager's AdminService with Debian's python3-grpcio and python3-protobuf,
using no generated code: the messages come from the descriptor set `buf build` writes from proto/
(build it first: npx buf build -o disio.binpb).

Usage:
  python3 backend.py --manager 127.0.0.1:7100 --token TOKEN --descriptors disio.binpb \\
      --name squares --program work.js --units 100

Prints one JSON line per result, {"unit", "input", "output", "cursor"}, in finishing order, then
{"project", "results", "done"} once every unit is final. Exits 3 with {"code", "details"} when a call
fails.
"""
import argparse
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

SERVICE = "disio.v1.AdminService"


def load_messages(descriptor_set_path):
    """Every message of the descriptor set, by full name (e.g. "disio.v1.CreateProjectRequest")."""
    files = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_set_path, "rb") as f:
        files.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:  # buf writes dependencies before the files that import them
        pool.Add(file)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    factory = None if get_class else message_factory.MessageFactory(pool)
    messages = {}
    for file in files.file:
        for message in file.message_type:
            name = f"{file.package}.{message.name}"
            descriptor = pool.FindMessageTypeByName(name)
            messages[name] = get_class(descriptor) if get_class else factory.GetPrototype(descriptor)
    return messages


class AdminService:
    """The AdminService methods this backend uses, over one channel, with the bearer token."""

    def __init__(self, channel, token, messages):
        self.metadata = [("authorization", f"Bearer {token}")]
        self.messages = messages
        self.channel = channel

    def _method(self, name, request_type, response_type, streaming=False):
        make = self.channel.unary_stream if streaming else self.channel.unary_unary
        return make(
            f"/{SERVICE}/{name}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=self.messages[f"disio.v1.{response_type}"].FromString,
        )

    def request(self, type_name, **fields):
        return self.messages[f"disio.v1.{type_name}"](**fields)

    def create_project(self, **fields):
        call = self._method("CreateProject", "CreateProjectRequest", "CreateProjectResponse")
        return call(self.request("CreateProjectRequest", **fields), metadata=self.metadata, timeout=30).project

    def add_units(self, project_id, inputs, request_id):
        units = [self.request("UnitInput", input=value) for value in inputs]
        request = self.request("AddUnitsRequest", project_id=project_id, units=units, request_id=request_id)
        call = self._method("AddUnits", "AddUnitsRequest", "AddUnitsResponse")
        return call(request, metadata=self.metadata, timeout=60).unit_ids

    def watch_results(self, project_id, cursor=""):
        call = self._method("WatchResults", "WatchResultsRequest", "WatchResultsResponse", streaming=True)
        request = self.request("WatchResultsRequest", project_id=project_id, cursor=cursor, until_done=True)
        return call(request, metadata=self.metadata)


def main():
    parser = argparse.ArgumentParser(description="create a project, add units, stream the results")
    parser.add_argument("--manager", required=True, help="host:port of the manager (gRPC over h2c)")
    parser.add_argument("--token", required=True, help="the manager's admin token")
    parser.add_argument("--descriptors", required=True, help="descriptor set written by `buf build -o`")
    parser.add_argument("--name", required=True, help="the project's name")
    parser.add_argument("--program", required=True, help="the program: an ES module file")
    parser.add_argument("--units", type=int, default=100, help="units {\"n\": i} for i in 0..units-1")
    parser.add_argument("--batch", type=int, default=1000, help="units per AddUnits call")
    args = parser.parse_args()

    messages = load_messages(args.descriptors)
    with open(args.program, "r", encoding="utf-8") as f:
        program = f.read()
    with grpc.insecure_channel(args.manager) as channel:
        admin = AdminService(channel, args.token, messages)
        try:
            project = admin.create_project(name=args.name, program_source=program)
            for start in range(0, args.units, args.batch):
                inputs = [json.dumps({"n": n}).encode() for n in range(start, min(args.units, start + args.batch))]
                # The same request id on a retry stores the batch once.
                admin.add_units(project.id, inputs, request_id=f"{args.name}-{start}")
            results = 0
            done = False
            # A stream cut short (a manager restart) would be resumed from `cursor` with a new call.
            for batch in admin.watch_results(project.id):
                for result in batch.results:
                    results += 1
                    print(json.dumps({
                        "unit": result.unit_id,
                        "input": json.loads(result.input),
                        "output": json.loads(result.output),
                        "cursor": result.cursor,
                    }))
                if batch.project_done:
                    done = True
                    break
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "details": error.details()}))
            sys.exit(3)
    print(json.dumps({"project": project.id, "results": results, "done": done}))


if __name__ == "__main__":
    main()
