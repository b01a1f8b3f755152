import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

/**
 * JSON lines for log collectors; readable lines when a person watches a terminal.
 *
 * Standard output (not a terminal) is written asynchronously: a request's line goes into
 * a buffer that one background write empties, so logging never waits on the disk or the
 * pipe while requests wait behind it. What is still buffered is written synchronously when
 * the process exits — after a SIGTERM/SIGINT shutdown, a start-up failure or an uncaught
 * error alike (pino.destination registers that flush on the process's `exit` event). Only a
 * SIGKILL can lose the last lines. Another stream given here is written as it is.
 */
export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  const out = stream ?? process.stdout;
  const isTerminal = "isTTY" in out && Boolean(out.isTTY);
  let destination: DestinationStream;
  if (isTerminal) destination = pretty({ destination: out, sync: true, ignore: "pid,hostname" });
  else if (stream) destination = stream;
  else destination = pino.destination({ dest: 1, sync: false });
  return pino({ level, base: { app: "litepaste" } }, destination);
}
