import { EdgeError } from "../util/errors.js";

/** Command payloads are flat objects: anything nested this deep is refused before it is parsed. */
export const MAX_JSON_DEPTH = 4;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A command payload as a JSON object. Refused (E_CMD_MALFORMED) before any
 * object is built: bytes that are not UTF-8 (decoding would otherwise turn
 * them into U+FFFD silently), nesting deeper than MAX_JSON_DEPTH, and a key
 * given twice at the top level (JSON.parse keeps the last, so
 * `{"from":"a","from":"b"}` would mean one thing to a filter in front of the
 * station and another here). An empty payload is `{}`.
 */
export function parseCommandJson(payload: Buffer): unknown {
  if (payload.byteLength === 0) return {};
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new EdgeError("E_CMD_MALFORMED", "payload is not UTF-8");
  }
  const keys = scan(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EdgeError("E_CMD_MALFORMED", "payload is not JSON");
  }
  if (json !== null && typeof json === "object" && !Array.isArray(json) && Object.keys(json).length !== keys) {
    throw new EdgeError("E_CMD_MALFORMED", "payload has a duplicate key");
  }
  return json;
}

/**
 * One pass over the text outside strings: bounds the nesting and counts the
 * keys of the top-level object (a string at depth 1 followed by ':'). Syntax
 * errors are left to JSON.parse.
 */
function scan(text: string): number {
  let depth = 0;
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = depth;
      i = stringEnd(text, i);
      if (start === 1) {
        let j = i + 1;
        while (j < text.length && isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) === 0x3a /* : */) keys++;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) throw new EdgeError("E_CMD_MALFORMED", `payload is nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return keys;
}

/** Index of the quote closing the string opened at `i` (or the end of the text). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j;
  }
  return text.length;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
