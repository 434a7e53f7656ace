#!/usr/bin/env python3
"""A minimal Fulcrum RPC client written from docs/protocol.md alone.

Standard library only: the 16-byte frame header with struct, the protobuf
fields by hand. Usage:

    minimal_client.py HOST:PORT atp SKU
    minimal_client.py HOST:PORT reserve ORDER NODE SKU QUANTITY
    minimal_client.py HOST:PORT optimize ORDER LATITUDE LONGITUDE SKU QUANTITY NODE NODE_LATITUDE NODE_LONGITUDE

Prints one JSON object; exits 0 on a response, 1 on an error answer.
"""
import json
import socket
import struct
import sys

MAGIC = b"FC"
VERSION = 1
OP_ATP = 20
OP_RESERVE = 30
OP_OPTIMIZE = 40
FLAG_RESPONSE = 0x0001
FLAG_ERROR = 0x0002


def varint(value):
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_double(number, value):
    return varint(number << 3 | 1) + struct.pack("<d", value)


def read_varint(data, offset):
    shift = result = 0
    while True:
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, offset


def decode(data):
    """Field number -> list of raw values (ints or bytes)."""
    fields = {}
    offset = 0
    while offset < len(data):
        key, offset = read_varint(data, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = read_varint(data, offset)
            if value >= 1 << 63:
                value -= 1 << 64
        elif wire == 1:
            value = data[offset:offset + 8]
            offset += 8
        elif wire == 2:
            length, offset = read_varint(data, offset)
            value = data[offset:offset + length]
            offset += length
        elif wire == 5:
            value = data[offset:offset + 4]
            offset += 4
        else:
            raise ValueError("wire type %d" % wire)
        fields.setdefault(number, []).append(value)
    return fields


def text(fields, number):
    return fields.get(number, [b""])[0].decode()


def integer(fields, number):
    return fields.get(number, [0])[0]


def double(fields, number):
    return struct.unpack("<d", fields[number][0])[0] if number in fields else 0.0


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def call(address, opcode, payload, request_id=1):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        header = struct.pack(">2sBBIHHI", MAGIC, VERSION, opcode, request_id, 0, 0, len(payload))
        sock.sendall(header + payload)
        magic, version, answer_opcode, answer_id, flags, reserved, length = struct.unpack(
            ">2sBBIHHI", read_exactly(sock, 16))
        assert magic == MAGIC and version == VERSION, (magic, version)
        assert answer_opcode == opcode and answer_id == request_id, (answer_opcode, answer_id)
        assert flags & FLAG_RESPONSE
        body = read_exactly(sock, length)
        return bool(flags & FLAG_ERROR), decode(body)


def main(argv):
    address, operation = argv[1], argv[2]
    if operation == "atp":
        failed, fields = call(address, OP_ATP, field_bytes(1, argv[3]))
        result = {"sku": text(fields, 1), "available": integer(fields, 2),
                  "nodes": [{"node": text(decode(n), 1), "available": integer(decode(n), 2)}
                            for n in fields.get(3, [])]}
    elif operation == "reserve":
        order, node, sku, quantity = argv[3], argv[4], argv[5], int(argv[6])
        line = field_bytes(1, node) + field_bytes(2, sku) + field_varint(3, quantity)
        failed, fields = call(address, OP_RESERVE, field_bytes(1, order) + field_bytes(2, line))
        if not failed:
            reservation = decode(fields[1][0])
            result = {"order": text(reservation, 1), "state": text(reservation, 2),
                      "lines": [{"node": text(decode(l), 1), "sku": text(decode(l), 2),
                                 "quantity": integer(decode(l), 3)} for l in reservation.get(3, [])]}
    elif operation == "optimize":
        # One order, one node, against the server's ledger.
        order, latitude, longitude, sku, quantity = argv[3], float(argv[4]), float(argv[5]), argv[6], int(argv[7])
        node = field_bytes(1, argv[8]) + field_double(3, float(argv[9])) + field_double(4, float(argv[10]))
        ship_to = field_double(2, latitude) + field_double(3, longitude)
        line = field_bytes(1, "1") + field_bytes(2, sku) + field_varint(3, quantity)
        problem = field_bytes(1, field_bytes(1, order) + field_bytes(3, ship_to) + field_bytes(7, line)) + field_bytes(2, node)
        failed, fields = call(address, OP_OPTIMIZE, field_bytes(5, problem))
        if not failed:
            solution = decode(fields[2][0])
            quantities = lambda items: [{"line": text(decode(q), 1), "quantity": integer(decode(q), 2)} for q in items]
            result = {"status": text(solution, 1), "objective": double(solution, 2),
                      "plans": [{"order": text(decode(p), 1), "cost": double(decode(p), 4),
                                 "shipments": [{"node": text(decode(s), 1), "distance_km": double(decode(s), 2),
                                                "lines": quantities(decode(s).get(4, []))}
                                               for s in decode(p).get(2, [])],
                                 "backorders": quantities(decode(p).get(3, []))}
                                for p in solution.get(3, [])]}
    else:
        raise SystemExit("unknown operation " + operation)
    if failed:
        result = {"error": {"code": text(fields, 1), "message": text(fields, 2), "path": text(fields, 3)}}
    print(json.dumps(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
