import { Session } from "node:inspector/promises";

/**
 * Ends a worker thread of this process from outside, as a fault inside it
 * would (an abort in a native call, an out-of-memory): through the inspector,
 * which sees every worker, it runs process.exit(code) in the first thread
 * whose script URL ends with `script`. The daemon's code has no hook for it.
 */
export async function killThread(script: string, code = 7): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    const attached = new Promise<string>((resolve) => {
      session.on("NodeWorker.attachedToWorker", (m) => {
        const { sessionId, workerInfo } = m.params as { sessionId: string; workerInfo: { url: string } };
        if (workerInfo.url.endsWith(script)) resolve(sessionId);
      });
    });
    await session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    const sessionId = await Promise.race([attached, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no thread running ${script}`)), 10_000))]);
    const message = JSON.stringify({ id: 1, method: "Runtime.evaluate", params: { expression: `process.exit(${code})` } });
    await session.post("NodeWorker.sendMessageToWorker", { sessionId, message });
  } finally {
    session.disconnect();
  }
}
