// What every `litepaste` command is, and the one place that runs one: flags parsed with the
// Go-style parser, -h answered with the command's usage, a UsageError answered with the
// message and exit 2, any other failure with the message and exit 1.

import { parseGoFlags, type FlagKind, type ParsedFlags } from "../internal/go-flags.js";
import { UsageError } from "../internal/usage-error.js";

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress is shown there only then. */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export interface Command {
  /** Its flags, Go style; `-h` and `-help` are always understood. */
  readonly flags: Readonly<Record<string, FlagKind>>;
  /** The text `-h` prints. */
  readonly usage: string;
  /**
   * Printed after a usage error instead of the whole usage, for a command whose usage is
   * too long to repeat under every mistake (serving lists every setting).
   */
  readonly errorHint?: string;
  /** Resolves to the exit code; throws UsageError for a bad argument found while running. */
  run(flags: ParsedFlags, io: CommandIo): Promise<number>;
}

/** `name` is how the command is called ("" for serving): it prefixes every message. */
export async function runCommand(name: string, command: Command, args: readonly string[], io: CommandIo): Promise<number> {
  const prefix = name === "" ? "litepaste" : `litepaste ${name}`;
  try {
    const flags = parseGoFlags(args, command.flags);
    if (flags.help) {
      io.stdout.write(command.usage);
      return 0;
    }
    return await command.run(flags, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${prefix}: ${err.message}\n${command.errorHint === undefined ? `\n${command.usage}` : `${command.errorHint}\n`}`);
      return 2;
    }
    io.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  }
}
