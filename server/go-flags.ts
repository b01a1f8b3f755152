// Command-line flags the way Go's `flag` package reads them, because LogPaste's and
// Litestream's users already write them that way: `-x v`, `--x v`, `-x=v`, `--x=v`;
// a boolean flag is set by `-x` alone or `-x=false` (never `-x false`); parsing stops at
// `--` or at the first argument that is not a flag.

export type FlagKind = "string" | "bool";

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
}

export interface ParsedFlags {
  /** The raw text of each flag given (booleans as "true"/"false" text for uniform validation). */
  readonly values: Map<string, string>;
  readonly positionals: string[];
}

export class FlagError extends Error {
  override name = "FlagError";
}

export function parseGoFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`flag provided but not defined: -${name}`);
    if (eq !== -1) {
      values.set(name, body.slice(eq + 1));
    } else if (spec.kind === "bool") {
      values.set(name, "true");
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new FlagError(`flag needs an argument: -${name}`);
      values.set(name, next);
      i++;
    }
  }
  return { values, positionals: argv.slice(i) };
}

/** Go's strconv.ParseBool, which is what `-flag=value` and LogPaste's env variables accept. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  return undefined;
}
