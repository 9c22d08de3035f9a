const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(x: unknown): Uint8Array {
  return enc.encode(JSON.stringify(x));
}

/** Parses a payload; throws SyntaxError with a short description on malformed input. */
export function decodeJson(data: Uint8Array): unknown {
  const text = dec.decode(data);
  if (text.length === 0) throw new SyntaxError('empty payload');
  return JSON.parse(text);
}
