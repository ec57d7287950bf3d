/**
 * node:test reporter for the tests that run inside the VM: one JSON line per
 * finished test, which the host-side lane (hardware.test.ts) turns back into
 * subtests of its own.
 */
interface TestEvent {
  type: string;
  data: { name: string; nesting: number; file?: string; skip?: unknown; todo?: unknown; details?: { duration_ms?: number; error?: unknown } };
}

export default async function* jsonl(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const e of source) {
    if (e.type !== "test:pass" && e.type !== "test:fail") continue;
    const { name, nesting, file, skip, todo, details } = e.data;
    const err = details?.error as { cause?: { stack?: string; message?: string }; message?: string } | undefined;
    // Errors arrive deserialised from the test process: not instances of this realm's Error.
    const cause = err?.cause?.stack ?? err?.cause?.message ?? (err?.cause !== undefined ? `${JSON.stringify(err.cause)} ${String(err.cause)}` : err?.message);
    yield JSON.stringify({ name, nesting, file, ok: e.type === "test:pass", skipped: Boolean(skip || todo), ms: details?.duration_ms, error: cause }) + "\n";
  }
}
