import pino, { type Logger } from "pino";

/** Silent unless TEST_LOG_LEVEL asks for more (e.g. TEST_LOG_LEVEL=debug while debugging a test). */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }, pino.destination(2));
}
