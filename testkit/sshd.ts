// A real SFTP server for tests: Debian's OpenSSH sshd (package openssh-server), started in
// the foreground on 127.0.0.1 and a free port with its own config, a generated host key and
// a generated user key, and a temp directory for the replicas. It never reads or changes
// the system's sshd configuration. Root may log in with the key only (tests run as root).

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";
import { freshDir } from "./scratch.js";
import { HANG_TIMEOUT_MS } from "./wait.js";

const SSHD = "/usr/sbin/sshd";
/** sshd refuses to start without its (compiled-in) privilege separation directory. */
const PRIVSEP_DIR = "/run/sshd";
/** Only a hang misses it (a loaded machine starts slowly, never this slowly). */
const START_TIMEOUT_MS = HANG_TIMEOUT_MS;

export interface SshdHandle {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The user's private key file (key-path). */
  readonly keyPath: string;
  /** The server's public key, "ssh-ed25519 AAAA…" (host-key). */
  readonly hostKey: string;
  /** The directory replicas go under. */
  readonly root: string;
  /** An sftp:// replica URL for `prefix` under the root, logging in with the key. */
  url(prefix: string): string;
  /** Kills the server (an outage starts; open connections drop). */
  stop(): Promise<void>;
  /** Starts it again on the same port (the outage ends). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

function launch(config: string, port: number): Promise<ChildProcess> {
  const child = spawn(SSHD, ["-D", "-e", "-f", config, "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sshd did not start within ${START_TIMEOUT_MS} ms: ${output}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code} before listening: ${output}`));
    };
    child.once("exit", onExit);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${SSHD} (apt-get install openssh-server): ${err.message}`));
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (!/Server listening on 127\.0\.0\.1 port \d+/.test(output)) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.unref();
      (child.stderr as unknown as { unref(): void }).unref();
      resolve(child);
    });
  });
}

/** The processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name.
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.ref();
  // Each session is a child process that leaves sshd's process group (setsid): kill those
  // first, so that open connections break as they would in an outage.
  for (const pid of childrenOf(child.pid!)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  child.kill("SIGKILL");
  await exited;
}

export async function startSshd(): Promise<SshdHandle> {
  const dir = freshDir("litepaste-sshd");
  const root = path.join(dir, "root");
  fs.mkdirSync(root);
  const hostKeyFile = path.join(dir, "host_key");
  const keyPath = path.join(dir, "user_key");
  for (const file of [hostKeyFile, keyPath]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  fs.copyFileSync(`${keyPath}.pub`, path.join(dir, "authorized_keys"));
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(config, [
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyFile}`,
    "PidFile none",
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // The temp directory's permissions are not sshd's idea of a home directory's.
    "StrictModes no",
    "UsePAM no",
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n"));
  fs.mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const port = await freePort();
  let child = await launch(config, port);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const hostKey = fs.readFileSync(`${hostKeyFile}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  const user = os.userInfo().username;
  return {
    host: "127.0.0.1",
    port,
    user,
    keyPath,
    hostKey,
    root,
    url: (prefix) => `sftp://${user}@127.0.0.1:${port}${path.join(root, prefix)}?key-path=${encodeURIComponent(keyPath)}`,
    stop: () => kill(child),
    async restart() {
      await kill(child);
      child = await launch(config, port);
    },
    async dispose() {
      await kill(child);
      process.off("exit", killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
