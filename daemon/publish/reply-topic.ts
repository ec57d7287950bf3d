/** Longest reply topic accepted, in UTF-8 bytes: far beyond any real one, far below MQTT's 65,535. */
export const MAX_REPLY_TOPIC_BYTES = 512;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `t` cannot be a topic the station publishes to, or undefined when it
 * can. Everything a broker refuses with a disconnect is caught here, before
 * the publish: wildcards, a NUL, malformed UTF-8 (a lone surrogate), control
 * characters and non-characters (Mosquitto refuses them), and `$` topics,
 * which belong to the broker. Empty levels are refused too: no reply topic
 * needs one, and `a//b` beside `a/b` only confuses ACLs.
 */
export function topicNameProblem(t: string, maxBytes = MAX_REPLY_TOPIC_BYTES): string | undefined {
  if (t.length === 0) return "is empty";
  if (Buffer.byteLength(t, "utf8") > maxBytes) return `is longer than ${maxBytes} bytes`;
  if (t.startsWith("$")) return "starts with '$' (broker topics)";
  if (/[+#]/.test(t)) return "contains a wildcard ('+' or '#')";
  if (t.split("/").some((level) => level.length === 0)) return "has an empty level";
  if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) return "contains a control character";
  if (LONE_SURROGATE.test(t)) return "is not valid UTF-8 (lone surrogate)";
  if (/[\ufdd0-\ufdef\ufffe\uffff]/.test(t)) return "contains a Unicode non-character";
  return undefined;
}

/**
 * Why a requested response topic is not taken, or undefined when it is: it
 * must be a valid topic name and lie under one of `prefixes` (each ending in
 * '/'), which by default hold only the station's own `replies/` tree.
 */
export function replyTopicProblem(t: string, prefixes: readonly string[]): string | undefined {
  const problem = topicNameProblem(t);
  if (problem) return `response topic ${problem}`;
  if (!prefixes.some((p) => t.startsWith(p) && t.length > p.length)) return `response topic is outside the reply prefixes (${prefixes.join(", ")})`;
  return undefined;
}
