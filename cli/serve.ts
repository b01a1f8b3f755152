// `litepaste [flags]`: the paste server, with built-in replication when DB_REPLICA_URL is set.

import { CONFIG_FLAGS, configFromFlags, configHelp } from "../server/config.js";
import type { Command } from "./command.js";
import { overview } from "./commands.js";

export const serveCommand: Command = {
  flags: CONFIG_FLAGS,
  usage: `litepaste: a self-hosted paste service for debug logs (LogPaste-compatible)

Usage:
${overview()}
Flags and environment variables (a flag wins over its variable):
${configHelp()}
`,
  errorHint: "Run litepaste --help to list the flags, variables and commands.",
  async run(flags, io) {
    const config = configFromFlags(flags, io.env);
    const [{ createLogger }, { startServer }] = await Promise.all([import("../server/logger.js"), import("../server/main.js")]);
    const logger = createLogger(config.logLevel);
    for (const warning of config.warnings) logger.warn(warning);
    // Issue 13: the replica clients read their keys from the environment by Litestream's
    // names; a litestream.yml's keys go there, unless the environment has keys of its own.
    const keys = config.fileCredentials;
    if (keys && !io.env.LITESTREAM_ACCESS_KEY_ID && !io.env.AWS_ACCESS_KEY_ID) {
      io.env.LITESTREAM_ACCESS_KEY_ID = keys.accessKeyId;
      io.env.LITESTREAM_SECRET_ACCESS_KEY = keys.secretAccessKey;
    }
    let server;
    try {
      server = await startServer(config, logger);
    } catch (err) {
      logger.fatal({ err }, `litepaste could not start: ${(err as Error).message}`);
      return 1;
    }
    const running = server;
    return new Promise<number>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, "shutting down");
        running.close().then(
          () => resolve(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            resolve(1);
          },
        );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
  },
};
