import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBounded, ReadRefused } from "../../daemon/util/bounded-read.js";

const dir = mkdtempSync(join(tmpdir(), "bounded-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (path: string, opts: Parameters<typeof readBounded>[1]) => {
  try {
    readBounded(path, opts);
  } catch (err) {
    assert.ok(err instanceof ReadRefused, String(err));
    return err.refusal;
  }
  assert.fail(`${path} was read`);
};

test("a regular file within the limit is read whole, and every chunk is seen once", () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  data[12345] = 1;
  writeFileSync(join(dir, "big.bin"), data);
  const hash = createHash("sha256");
  const got = readBounded(join(dir, "big.bin"), { maxBytes: data.length, onChunk: (c) => hash.update(c) });
  assert.ok(got.equals(data));
  assert.equal(hash.digest("hex"), createHash("sha256").update(data).digest("hex"));
  assert.equal(readBounded(join(dir, "big.bin"), { maxBytes: data.length, noFollow: true }).length, data.length);
  writeFileSync(join(dir, "empty"), "");
  assert.equal(readBounded(join(dir, "empty"), { maxBytes: 0 }).length, 0);
});

test("what is not a regular file within the limit is refused before a byte is read, and never blocks", () => {
  writeFileSync(join(dir, "ten"), "0123456789");
  symlinkSync("/dev/zero", join(dir, "zero"));
  symlinkSync(join(dir, "ten"), join(dir, "link"));
  execFileSync("mkfifo", [join(dir, "fifo")]);
  mkdirSync(join(dir, "folder"));
  assert.deepEqual(refusal(join(dir, "ten"), { maxBytes: 9 }), { kind: "too-large", bytes: 10, max: 9 });
  assert.deepEqual(refusal(join(dir, "zero"), { maxBytes: 1e9 }), { kind: "not-regular", what: "a character device" });
  assert.deepEqual(refusal(join(dir, "zero"), { maxBytes: 1e9, noFollow: true }), { kind: "open", errno: "ELOOP" });
  assert.deepEqual(refusal(join(dir, "link"), { maxBytes: 100, noFollow: true }), { kind: "open", errno: "ELOOP" });
  assert.equal(readBounded(join(dir, "link"), { maxBytes: 100 }).toString(), "0123456789");
  assert.deepEqual(refusal(join(dir, "fifo"), { maxBytes: 100 }), { kind: "not-regular", what: "a FIFO" });
  assert.deepEqual(refusal(join(dir, "folder"), { maxBytes: 100 }), { kind: "not-regular", what: "a directory" });
  assert.deepEqual(refusal(join(dir, "none"), { maxBytes: 100 }), { kind: "open", errno: "ENOENT" });
  assert.deepEqual(refusal("/dev/null", { maxBytes: 100 }), { kind: "not-regular", what: "a character device" });
});
