// Command-line flags parsed the way Go's `flag` package parses them, so that Litestream's
// users can keep their habits: `-o PATH`, `--o PATH`, `-o=PATH`, boolean `-flag` or
// `-flag=false`; parsing stops at the first argument that is not a flag, or after `--`.
// Every `litepaste` command parses with it, and so does the server's configuration (hence
// internal/ rather than cli/). Kept by hand: node:util parseArgs has GNU semantics (`-abc`
// as three short options, no single-dash long flags, options after operands).

import { UsageError } from "./usage-error.js";

export type FlagKind = "string" | "bool";

/** Go's strconv.ParseBool, which `-flag=value` (and LogPaste's boolean variables) accept. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  return undefined;
}

export interface ParsedFlags {
  readonly strings: ReadonlyMap<string, string>;
  /** Boolean flags that ended up true. */
  readonly bools: ReadonlySet<string>;
  /** Every flag that was given, so a caller can tell `-x=false` from no `-x` at all. */
  readonly given: ReadonlySet<string>;
  readonly positional: readonly string[];
  /** -h, -help, --h or --help was given (the other arguments are then not parsed, as in Go). */
  readonly help: boolean;
}

export function parseGoFlags(args: readonly string[], specs: Readonly<Record<string, FlagKind>>): ParsedFlags {
  const strings = new Map<string, string>();
  const bools = new Set<string>();
  const given = new Set<string>();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) break;
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inlineValue = eq < 0 ? undefined : body.slice(eq + 1);
    if (name === "h" || name === "help") return { strings, bools, given, positional: [], help: true };
    const kind = specs[name];
    if (kind === undefined) throw new UsageError(`flag provided but not defined: -${name}`);
    given.add(name);
    if (kind === "bool") {
      const value = inlineValue === undefined ? true : parseGoBool(inlineValue);
      if (value === undefined) {
        throw new UsageError(`invalid boolean value "${inlineValue}" for -${name}: expected true or false (also 1/0, t/f)`);
      }
      if (value) bools.add(name);
      else bools.delete(name);
      continue;
    }
    if (inlineValue !== undefined) {
      strings.set(name, inlineValue);
    } else {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      strings.set(name, value);
      i++;
    }
  }
  return { strings, bools, given, positional: args.slice(i), help: false };
}
