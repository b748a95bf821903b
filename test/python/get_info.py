"""Calls disio.v1.AdminService/GetInfo over h2c with Python's grpcio, no generated code.

Usage: get_info.py HOST:PORT TOKEN
Prints one JSON line {"version": ..., "manager_id": ...} decoded from the raw response bytes,
or exits 3 with {"code": ..., "details": ...} when the call fails. Exits 2 when grpcio is missing.
"""
import json
import sys

try:
    import grpc
except ImportError as error:  # the Node test turns this into a failure with the fix to apply
    print(f"python grpc missing: {error} (apt-get install -y python3-grpcio)", file=sys.stderr)
    sys.exit(2)


def read_varint(data, pos):
    result = 0
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def string_fields(data):
    """Maps field number -> str for every length-delimited field, skipping the other wire types."""
    fields = {}
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, pos = read_varint(data, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            length, pos = read_varint(data, pos)
            fields[number] = data[pos:pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
    return fields


def main():
    target, token = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(target) as channel:
        get_info = channel.unary_unary(
            "/disio.v1.AdminService/GetInfo",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        try:
            raw = get_info(b"", metadata=[("authorization", f"Bearer {token}")], timeout=10)
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "details": error.details()}))
            sys.exit(3)
    fields = string_fields(raw)
    print(json.dumps({
        "version": fields.get(1, b"").decode("utf-8"),
        "manager_id": fields.get(2, b"").decode("utf-8"),
    }))


if __name__ == "__main__":
    main()
