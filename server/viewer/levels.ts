// Which lines of a log are errors or warnings: level words as loggers print them
// (upper case, so that "no error found" in prose is not one), logfmt's level=…, and the
// level fields of JSON logs, by name (pino, bunyan, zap, logrus, ECS) or by pino/bunyan's
// numbers (40 warn, 50 error, 60 fatal).

export type Level = "error" | "warn";

const ERROR_WORDS = /\b(?:FATAL|PANIC|CRITICAL|CRIT|ERROR|ERR|SEVERE|EMERG|ALERT)\b/;
const WARN_WORDS = /\b(?:WARN|WARNING)\b/;
const LEVEL_FIELD = /(?:"(?:level|severity|lvl|log\.level)"\s*:\s*(?:"(\w+)"|(\d+)))|(?:\b(?:level|lvl|severity)=(\w+))/i;

function levelOfName(name: string): Level | undefined {
  const n = name.toLowerCase();
  if (["fatal", "panic", "critical", "crit", "error", "err", "severe", "emerg", "emergency", "alert", "dpanic"].includes(n)) return "error";
  if (n === "warn" || n === "warning") return "warn";
  return undefined;
}

export function lineLevel(text: string): Level | undefined {
  const field = LEVEL_FIELD.exec(text);
  if (field) {
    if (field[2] !== undefined) {
      const n = Number(field[2]);
      return n >= 50 ? "error" : n >= 40 ? "warn" : undefined;
    }
    return levelOfName(field[1] ?? field[3]!);
  }
  if (ERROR_WORDS.test(text)) return "error";
  if (WARN_WORDS.test(text)) return "warn";
  return undefined;
}
