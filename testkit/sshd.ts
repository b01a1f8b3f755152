// A real SFTP server for tests: Debian's OpenSSH sshd (package openssh-server), started in
// the foreground on 127.0.0.1 and a free port with its own config, a generated host key and
// a generated user key, and a temp directory for the replicas. It never reads or changes
// the system's sshd configuration. Root may log in with the key only (tests run as root).

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startChildServer, type ServerControls } from "./child-server.js";
import { freePort } from "./ports.js";
import { freshDir } from "./scratch.js";

const SSHD = "/usr/sbin/sshd";
/** sshd refuses to start without its (compiled-in) privilege separation directory. */
const PRIVSEP_DIR = "/run/sshd";

export interface SshdHandle extends ServerControls {
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
  const server = await startChildServer({
    name: "sshd",
    command: SSHD,
    args: (listenPort) => ["-D", "-e", "-f", config, "-p", String(listenPort)],
    listening: /Server listening on 127\.0\.0\.1 port \d+/,
    // Each session is a child process that leaves sshd's process group (setsid): kill those
    // first, so that open connections break as they would in an outage.
    beforeKill: (pid) => {
      for (const session of childrenOf(pid)) {
        try {
          process.kill(session, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
    missingHint: "apt-get install openssh-server",
  }, port);
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
    stop: () => server.stop(),
    restart: () => server.restart(),
    async dispose() {
      await server.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
