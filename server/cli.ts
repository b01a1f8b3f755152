#!/usr/bin/env node
// `litepaste [flags]` serves; `litepaste <command> …` runs one of Litestream's replica
// commands (restore, snapshots, generations, wal) or the stand-alone replicator.

// Each command loads only its own modules: a restore on a cold container should not wait
// for Fastify and the rest of the server to load (measured in bench/, "restore").
import { ConfigError, configHelp, loadConfig } from "./config.js";

const REPLICA_VERBS = ["restore", "snapshots", "generations", "wal"] as const;
type ReplicaVerb = (typeof REPLICA_VERBS)[number];

const USAGE = `litepaste: a self-hosted paste service for debug logs (LogPaste-compatible)

Usage:
  litepaste [flags]                 serve (flags and variables below)
  litepaste restore [flags] URL     restore the database from a replica
  litepaste snapshots URL           list a replica's snapshots
  litepaste generations URL         list a replica's generations
  litepaste wal URL                 list a replica's WAL segments
  litepaste replicate [flags] DB URL   replicate a database written by another program
  litepaste <command> -h            help for one command

Flags and environment variables (a flag wins over its variable):
`;

async function serve(argv: string[]): Promise<number> {
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`litepaste: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const [{ createLogger }, { startServer }] = await Promise.all([import("./logger.js"), import("./main.js")]);
  const logger = createLogger(config.logLevel);
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
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const io = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stderr.isTTY), env: process.env };
  if (first && (REPLICA_VERBS as readonly string[]).includes(first)) {
    const { runReplicaCommand } = await import("../replication/cli.js");
    return runReplicaCommand(first as ReplicaVerb, rest, io);
  }
  if (first === "replicate") return (await import("../replication/replicate-command.js")).runReplicate(rest, io);
  if (argv.some((a) => ["-h", "-help", "--help", "help"].includes(a))) {
    process.stdout.write(`${USAGE}${configHelp()}\n`);
    return 0;
  }
  return serve(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`litepaste: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
