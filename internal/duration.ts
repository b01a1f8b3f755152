// Go's time.ParseDuration syntax ("10s", "500ms", "1h30m", "0"), which LogPaste's and
// Litestream's users already write in DB_SYNC_INTERVAL and friends.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds, or an Error whose message says what a valid duration looks like. */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === "0") return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < input.length) {
    part.lastIndex = pos;
    const match = part.exec(input);
    if (!match) break;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    pos = part.lastIndex;
  }
  if (input.length === 0 || pos !== input.length) {
    throw new Error(`invalid duration "${text}": use a number with a unit, such as 500ms, 10s, 5m or 24h`);
  }
  return total;
}

/** The inverse, for messages and --help: 1500 → "1.5s", 86400000 → "24h". */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
