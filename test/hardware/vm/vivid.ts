import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { sleep } from "../../../daemon/util/clock.js";

const DRIVER = "/sys/bus/platform/drivers/vivid";

/**
 * The kernel's virtual video driver, one instance: /dev/video0 is its video
 * capture node, /dev/video1 its video output (not a camera). Its on-screen
 * text (a timestamp and eight lines of control values, from row 16 to row 143,
 * on a black background) is switched off: the frames are then the test
 * pattern alone on every row, whatever the size.
 */
export async function loadVivid(): Promise<void> {
  if (!existsSync(DRIVER)) execFileSync("modprobe", ["vivid", "n_devs=1", "node_types=0x101"]);
  await until(() => existsSync("/dev/video0"), "/dev/video0");
  execFileSync("v4l2-ctl", ["-d", "/dev/video0", "-c", "osd_text_mode=2"]);
}

export function unloadVivid(): void {
  if (existsSync(DRIVER)) execFileSync("rmmod", ["vivid"]);
}

/** The device goes away as a USB camera does when unplugged: open handles see ENODEV. */
export async function unplug(): Promise<void> {
  writeFileSync(`${DRIVER}/unbind`, "vivid.0");
  await until(() => !existsSync("/dev/video0"), "/dev/video0 gone");
}

export async function plugIn(): Promise<void> {
  writeFileSync(`${DRIVER}/bind`, "vivid.0");
  await until(() => existsSync("/dev/video0"), "/dev/video0 back");
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`vivid: timed out waiting for ${what}`);
}
