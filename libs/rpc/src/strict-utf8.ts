/**
 * @file Strict UTF-8 for request strings. protobuf-es decodes string fields with a lenient
 * TextDecoder (invalid bytes become U+FFFD), so a server would silently work on altered text.
 * Requests are decoded with a reader whose string decoder marks invalid bytes instead; the decoded
 * message is then walked for marks, so the INVALID_ARGUMENT names the field path.
 */
import { BinaryReader } from '@seal/proto';

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/**
 * Prefixed to a string whose bytes were not UTF-8: a lone high surrogate, which no valid UTF-8
 * sequence decodes to (UTF-8 cannot encode surrogates), so a genuine string never carries it.
 */
const INVALID_MARK = '\uD800';

function decodeMarkingInvalid(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return INVALID_MARK + lenient.decode(bytes);
  }
}

/** A reader for `bytes` whose string fields carry INVALID_MARK where the bytes were not UTF-8. */
export function strictUtf8Reader(bytes: Uint8Array): BinaryReader {
  return new BinaryReader(bytes, decodeMarkingInvalid);
}

/** `idempotencyKey` → `idempotency_key`: error paths use the proto field names, like from-proto's. */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The path of the first string field of a decoded message whose bytes were not
 * UTF-8, e.g. `context.knowledge.questions[2].text`; undefined when every string is valid.
 * A oneof (`{ $case, value }`, ts-proto's unions-value) shows as its set member's name.
 */
export function findInvalidUtf8(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.startsWith(INVALID_MARK) ? path || '(message)' : undefined;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findInvalidUtf8(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  // NOTE: seal.v1 has no map fields; a map's keys would be snake-cased here like field names.
  for (const [key, field] of Object.entries(value)) {
    // A oneof is named for its set member, as on the wire (`context.knowledge`, not `context.kind.knowledge`).
    const oneof = oneofCase(field);
    const found = oneof ? findInvalidUtf8(oneof.value, join(path, snake(oneof.$case))) : findInvalidUtf8(field, join(path, snake(key)));
    if (found) return found;
  }
  return undefined;
}

function oneofCase(field: unknown): { $case: string; value: unknown } | undefined {
  const candidate = field as { $case?: unknown; value?: unknown } | null;
  return candidate && typeof candidate === 'object' && typeof candidate.$case === 'string' ? (candidate as { $case: string; value: unknown }) : undefined;
}

const join = (path: string, field: string) => (path === '' ? field : `${path}.${field}`);
