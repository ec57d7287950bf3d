/**
 * A "billion laughs" document: `levels` anchors, each a list of nine aliases
 * of the one before, so the last expands to 9^levels strings from a few
 * hundred bytes.
 */
export function aliasBomb(levels = 9, key = "a"): string {
  const lines = [`${key}0: &${key}0 ["x","x","x","x","x","x","x","x","x"]`];
  for (let i = 1; i < levels; i++) lines.push(`${key}${i}: &${key}${i} [${Array.from({ length: 9 }, () => `*${key}${i - 1}`).join(",")}]`);
  return lines.join("\n") + "\n";
}
