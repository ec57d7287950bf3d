/**
 * The edges behind one sysfs GPIO notification. sysfs tells a watcher only
 * that a line's level changed since its value was last read, and the value is
 * read when the event loop gets to it: a line read at the level it had at the
 * previous notification went through the other level and back meanwhile, a
 * whole pulse the loop was too late to see, whose two edges still happened.
 * Levels are logical (true = active); edges come in the order they happened.
 */
export function edgesSince(previous: boolean, now: boolean): boolean[] {
  return previous === now ? [!now, now] : [now];
}
