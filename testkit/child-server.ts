// A test server in a child process: start it, wait until it says it listens, and stop and
// start it again on the same port to play an outage. testkit/s3rver.ts, azurite.ts and
// sshd.ts each describe their server here and keep only what is their own.

import { spawn, type ChildProcess } from "node:child_process";
import { HANG_TIMEOUT_MS } from "./wait.js";

/** Only a hang misses it (a loaded machine starts slowly, never this slowly). */
const START_TIMEOUT_MS = HANG_TIMEOUT_MS;
/** How long a server stopped with SIGTERM may take before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

export interface ChildServerSpec {
  /** Names the server in errors. */
  readonly name: string;
  readonly command: string;
  /** The arguments to listen on `port` (0: a free port the server picks and announces). */
  args(port: number): string[];
  /** Matches the line (stdout or stderr) that says it listens; a first group, if any, is the port. */
  readonly listening: RegExp;
  /** SIGTERM for a server that must save its state on the way out (SIGKILL if it hangs); SIGKILL by default. */
  readonly stopSignal?: "SIGTERM" | "SIGKILL";
  /** Runs just before the server is killed, with its pid (e.g. to kill processes that left its group). */
  beforeKill?(pid: number): void;
  /** Added to the error when the command cannot be run at all (e.g. which package installs it). */
  readonly missingHint?: string;
}

/** What a test does with its server: play an outage, end it, clean up. */
export interface ServerControls {
  /** Kills the server (an outage starts). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data (the outage ends). */
  restart(): Promise<void>;
  /** Stops it for good and removes what its helper made for it. */
  dispose(): Promise<void>;
}

export interface ChildServer extends ServerControls {
  /** The port it listens on, the same after a restart. */
  readonly port: number;
}

function launch(spec: ChildServerSpec, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(spec.command, spec.args(port), { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    let listening = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${spec.name} did not start within ${START_TIMEOUT_MS} ms: ${output}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited with ${code} before listening: ${output}`));
    };
    child.once("exit", onExit);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${spec.command}${spec.missingHint ? ` (${spec.missingHint})` : ""}: ${err.message}`));
    });
    const onData = (chunk: Buffer) => {
      // Kept only until it listens: what a long-running server logs later would grow without end.
      if (listening) return;
      output += chunk.toString();
      const match = spec.listening.exec(output);
      if (!match) return;
      listening = true;
      clearTimeout(timer);
      child.off("exit", onExit);
      // Never keep the test process alive for the server's sake.
      child.unref();
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stderr as unknown as { unref(): void }).unref();
      resolve({ child, port: match[1] === undefined ? port : Number(match[1]) });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
}

async function kill(spec: ChildServerSpec, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.ref(); // an unreferenced child would let the event loop end before "exit" arrives
  spec.beforeKill?.(child.pid!);
  const signal = spec.stopSignal ?? "SIGKILL";
  child.kill(signal);
  const timer = signal === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts the server on `port` (0: any) and resolves once it listens. */
export async function startChildServer(spec: ChildServerSpec, port = 0): Promise<ChildServer> {
  let { child, port: listeningPort } = await launch(spec, port);
  // A test that ends without dispose() must not leave the server running.
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  return {
    get port() {
      return listeningPort;
    },
    stop: () => kill(spec, child),
    async restart() {
      await kill(spec, child);
      ({ child, port: listeningPort } = await launch(spec, listeningPort));
    },
    // The caller removes its own directories.
    async dispose() {
      await kill(spec, child);
      process.off("exit", killOnExit);
    },
  };
}
