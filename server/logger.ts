import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/** JSON lines for log collectors; readable lines when a person watches a terminal. */
export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  const isTerminal = "isTTY" in stream && Boolean(stream.isTTY);
  const destination = isTerminal ? pretty({ destination: stream, sync: true, ignore: "pid,hostname" }) : stream;
  return pino({ level, base: { app: "litepaste" } }, destination);
}
