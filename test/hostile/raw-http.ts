import { request } from "node:http";

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request exactly as given: any header a browser would forbid a page
 * to set (Origin, Sec-Fetch-Site, Host), any body, any length.
 */
export function raw(url: string, method: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: { ...length, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export const basicAuth = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;

/** The id of the first rejected part in the log, once there is one, asked with these headers. */
export async function firstReject(url: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const r = await raw(`${url}/api/defects?limit=1`, "GET", headers);
    const id = r.status === 200 ? (JSON.parse(r.body) as { items: Array<{ id: number }> }).items[0]?.id : undefined;
    if (id !== undefined) return id;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no rejected part after ${timeoutMs} ms (last answer ${r.status})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
