#!/usr/bin/env node
// `litepaste [flags]` serves; `litepaste <command> …` runs one of the commands in
// commands.ts. Only the first argument can name a command: after a flag, every argument is
// the serving command's (`litepaste -title help` sets the title).

import { runCommand } from "./command.js";
import { COMMANDS, loadServe } from "./commands.js";

async function main(argv: readonly string[]): Promise<number> {
  const io = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stderr.isTTY), env: process.env };
  const [first = "", ...rest] = argv;
  const entry = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (entry) return runCommand(first, await entry.load(), rest, io);
  // `litepaste help`, as the overview invites, is `litepaste -h`.
  return runCommand("", await loadServe(), first === "help" && rest.length === 0 ? ["-h"] : argv, io);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`litepaste: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
