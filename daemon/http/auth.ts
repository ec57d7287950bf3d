import { timingSafeEqual, createHash } from "node:crypto";
import type { HttpConfig } from "../config/schema.js";
import { readSecret } from "../config/secrets.js";
import { EdgeError } from "../util/errors.js";

export type Role = "viewer" | "operator";
export interface Principal {
  name: string;
  role: Role;
}

/** Compares digests, so neither the length nor the content of a secret leaks through timing. */
function same(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * Who a request is, from basic credentials, a bearer token, or nobody.
 * Secrets are read once at start; a missing one refuses the start.
 */
export class Auth {
  private readonly users: Array<{ name: string; password: string; role: Role }>;
  private readonly tokens: Array<{ token: string; role: Role }>;
  private readonly anonymous: Role | undefined;

  constructor(config: HttpConfig["auth"], env: NodeJS.ProcessEnv) {
    const secret = (ref: string, path: string) => {
      const r = readSecret(ref, env);
      if ("error" in r) throw new EdgeError("E_CONFIG", `http.auth.${path}: ${r.error}`);
      return r.value;
    };
    this.users = config.users.map((u, i) => ({ name: u.name, role: u.role, password: secret(u.password, `users.${i}.password`) }));
    this.tokens = config.tokens.map((t, i) => ({ role: t.role, token: secret(t.token, `tokens.${i}.token`) }));
    const anonymous = config.anonymous ?? (this.users.length + this.tokens.length === 0 ? "viewer" : "none");
    this.anonymous = anonymous === "none" ? undefined : anonymous;
  }

  /** What a browser is asked for on 401. */
  get challenge(): string {
    return this.users.length > 0 ? 'Basic realm="edge-inspect", charset="UTF-8"' : 'Bearer realm="edge-inspect"';
  }

  /** undefined: not authenticated (wrong or missing credentials). */
  identify(authorization: string | undefined): Principal | undefined {
    if (!authorization) return this.anonymous ? { name: "anonymous", role: this.anonymous } : undefined;
    const [scheme, value = ""] = authorization.split(/\s+/, 2);
    if (scheme?.toLowerCase() === "basic") {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return undefined;
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      let found: Principal | undefined;
      for (const u of this.users) if (same(u.name, name) && same(u.password, password)) found = { name: u.name, role: u.role };
      return found;
    }
    if (scheme?.toLowerCase() === "bearer") {
      let found: Principal | undefined;
      for (const [i, t] of this.tokens.entries()) if (same(t.token, value)) found = { name: `token${i + 1}`, role: t.role };
      return found;
    }
    return undefined;
  }
}
