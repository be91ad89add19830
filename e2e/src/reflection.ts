/**
 * @file A minimal gRPC server-reflection client (grpc.reflection.v1 ListServices), so tests check
 * what `grpcurl -plaintext HOST:PORT list` would print without needing grpcurl installed.
 */
import * as grpc from '@grpc/grpc-js';

/** Reads a protobuf varint at `pos`; returns [value, next position]. */
function varint(bytes: Buffer, pos: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
  }
}

/** The length-delimited fields numbered `field` in a message. */
function fields(bytes: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const [tag, afterTag] = varint(bytes, pos);
    const wire = tag & 7;
    if (wire === 2) {
      const [len, start] = varint(bytes, afterTag);
      if (tag >>> 3 === field) out.push(bytes.subarray(start, start + len));
      pos = start + len;
    } else if (wire === 0) pos = varint(bytes, afterTag)[1];
    else if (wire === 1) pos = afterTag + 8;
    else if (wire === 5) pos = afterTag + 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** The fully qualified service names a server lists through reflection. */
export function listServices(address: string): Promise<string[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<string[]>((resolve, reject) => {
    const call = client.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', (b: Buffer) => b, (b: Buffer) => b);
    call.on('data', (response: Buffer) => {
      // ServerReflectionResponse.list_services_response = 6 → ListServiceResponse.service = 1 → ServiceResponse.name = 1
      const list = fields(response, 6)[0];
      resolve(list ? fields(list, 1).map((service) => fields(service, 1)[0]!.toString('utf8')) : []);
      call.end();
    });
    call.on('error', reject);
    // ServerReflectionRequest { list_services = 7: "*" }
    call.write(Buffer.from([0x3a, 0x01, 0x2a]));
  }).finally(() => client.close());
}
