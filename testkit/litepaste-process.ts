// The real `litepaste` command (dist/cli/main.js) as a child process on 127.0.0.1.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { projectRoot } from "./paths.js";
import { freePort } from "./ports.js";

export const CLI = path.join(projectRoot, "dist/cli/main.js");

/** Runs a command to completion (help, restore, listing…). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 60_000 });
}

export interface ServedProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL — a crash: nothing is flushed or closed — and wait for the process to be gone. */
  crash(): Promise<void>;
}

/** Starts `litepaste` and resolves once it listens; rejects with its output if it exits first. */
export async function serveCli(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServedProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes("litepaste listening")) {
    if (child.exitCode !== null) throw new Error(`litepaste exited with ${child.exitCode} before listening:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`litepaste did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async crash() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Starts `litepaste` expecting it to fail before listening; resolves with its exit code and output. */
export function failCli(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
