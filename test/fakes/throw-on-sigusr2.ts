/**
 * Preloaded (`node --import`) into a daemon under test: SIGUSR2 raises an
 * exception that nothing catches, so the daemon's own crash path runs as it
 * would for a real bug, with no hook in the daemon's code.
 */
process.on("SIGUSR2", () => {
  setImmediate(() => {
    throw new Error("injected fault: an exception nothing catches");
  });
});
