/** The commands a station takes on `cmd/<name>`. */
export const COMMAND_NAMES = ["pause", "resume", "set-threshold", "test-reject", "snapshot", "reload-config", "swap-model"] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}
