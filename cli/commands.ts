// The table of `litepaste` commands. Each is loaded only when it is called: a restore on a
// cold container should not wait for Fastify and the rest of the server to load (measured
// in bench/, "restore").

import type { Command } from "./command.js";

export interface CommandEntry {
  /** Its arguments, for the overview: "[flags] URL". */
  readonly synopsis: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  restore: { synopsis: "[flags] URL", summary: "restore the database from a replica", load: async () => (await import("./restore.js")).restoreCommand },
  snapshots: { synopsis: "URL", summary: "list a replica's snapshots", load: async () => (await import("./inspect.js")).snapshotsCommand },
  generations: { synopsis: "URL", summary: "list a replica's generations", load: async () => (await import("./inspect.js")).generationsCommand },
  wal: { synopsis: "URL", summary: "list a replica's WAL segments", load: async () => (await import("./inspect.js")).walCommand },
  replicate: { synopsis: "[flags] DB URL", summary: "replicate a database written by another program", load: async () => (await import("./replicate.js")).replicateCommand },
};

/** Serving is what `litepaste` does when its first argument is not a command's name. */
export const loadServe = async (): Promise<Command> => (await import("./serve.js")).serveCommand;

/** The head of `litepaste -h`: every command, one line each. */
export function overview(): string {
  const lines: [string, string][] = [
    ["litepaste [flags]", "serve (flags and variables below)"],
    ...Object.entries(COMMANDS).map(([name, c]): [string, string] => [`litepaste ${name} ${c.synopsis}`, c.summary]),
    ["litepaste <command> -h", "help for one command"],
  ];
  return lines.map(([usage, summary]) => `  ${usage.padEnd(32)}  ${summary}\n`).join("");
}
