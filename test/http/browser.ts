import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/** Screenshots of each page land here (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL("../../../test/output/http/", import.meta.url));

/**
 * Debian's chromium, headless, fetching nothing from the network. launch()
 * gives it a fresh temporary profile of its own, removed on close.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
