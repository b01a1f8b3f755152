// A replica in a directory on an SFTP server, over ssh2-sftp-client (which owns the SSH
// connection) and ssh2's SFTP channel for the file operations, as Litestream v0.3's `sftp`
// replica type names it:
//
//   sftp://USER[:PASSWORD]@HOST[:PORT]/PATH[?key-path=FILE&host-key=KEY]
//
// PATH is taken as Litestream takes it: `/backups/db` is absolute on the server, no path at
// all is the login directory. `key-path` is Litestream's litestream.yml setting (a private
// key file) and `host-key` its later one (the server's public key, "TYPE BASE64" as in
// known_hosts): without it the server's key is not checked, as in Litestream v0.3.
//
// Objects are written to a hidden temporary file, fsynced (fsync@openssh.com, where the
// server has it) and renamed, so a reader never sees half an object.
//
// Conditional writes, and why they hold: SFTP v3's plain RENAME must fail when the target
// exists (OpenSSH's sftp-server does it with link(2), which is atomic), so create-if-absent
// is a rename of the finished temporary file, as the directory client's is a link(). An
// OPEN with CREAT|EXCL is atomic too, but would show a reader an empty or half-written
// lease: it is used only for the lock file under which compare-and-swap runs. The lease's
// probe (../../writer/lease.ts) catches a server whose rename overwrites.

import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import fs from "node:fs";
import path from "node:path/posix";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import type { SFTPWrapper, Stats, FileEntryWithStats } from "ssh2";
import SftpClient from "ssh2-sftp-client";
import { ReplicaObjectNotFoundError, type ConditionalReplicaClient, type ReplicaObject, type VersionedObject } from "../client.js";
import { ReplicaUrlError } from "../url.js";
import { parseBackendUrl, type BackendOpenOptions } from "../backend-url.js";

const FORM = "sftp://USER[:PASSWORD]@HOST[:PORT]/PATH[?key-path=FILE&host-key=KEY]";
export const DEFAULT_SFTP_PORT = 22;
/** Litestream's dial timeout. */
const CONNECT_TIMEOUT_MS = 30_000;
const TEMP_PREFIX = ".";
/** A compare-and-swap lock seen unchanged this long was left by a crash: it is broken. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

export interface SftpLocation {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly keyPath: string | undefined;
  /** The pinned host key: its algorithm and key blob. */
  readonly hostKey: { readonly type: string; readonly blob: Buffer } | undefined;
  /** The replica's directory: absolute, or "" for the login directory. */
  readonly root: string;
}

function parseHostKey(value: string, invalid: (problem: string) => never): { type: string; blob: Buffer } {
  // An unencoded "+" of the base64 arrives as a space: only the first space separates.
  const match = /^(\S+) +(\S[\S ]*?)\s*$/.exec(value);
  if (!match) invalid('host-key must be "TYPE BASE64", e.g. "ssh-ed25519 AAAAC3Nza…" (the server\'s public key)');
  const base64 = match![2]!.replace(/ /g, "+");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) invalid("host-key's key is not base64");
  return { type: match![1]!, blob: Buffer.from(base64, "base64") };
}

/** Where an sftp:// URL points; throws ReplicaUrlError. */
export function parseSftpUrl(url: string, description: string): SftpLocation {
  const { url: parsed, invalid } = parseBackendUrl(url, description, FORM, ["key-path", "host-key"]);
  const user = decodeURIComponent(parsed.username);
  if (user === "") invalid("the user is missing (sftp://USER@HOST/PATH)");
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (host === "") invalid("the host is missing");
  const password = parsed.password === "" ? undefined : decodeURIComponent(parsed.password);
  const keyPath = parsed.searchParams.get("key-path") || undefined;
  if (password === undefined && keyPath === undefined) invalid("no way to log in: give a password in the URL or a private key file as ?key-path=");
  const hostKeySetting = parsed.searchParams.get("host-key");
  const pathname = decodeURIComponent(parsed.pathname).replace(/\/+$/, "");
  return {
    host,
    port: parsed.port === "" ? DEFAULT_SFTP_PORT : Number(parsed.port),
    user,
    password,
    keyPath,
    hostKey: hostKeySetting ? parseHostKey(hostKeySetting, invalid) : undefined,
    root: pathname === "" && parsed.pathname.startsWith("/") ? "/" : pathname,
  };
}

interface SftpError {
  code?: number | string;
  level?: string;
  message?: string;
}

/** The SSH connection broke (as opposed to the server refusing one request with a status). */
function isConnectionError(err: unknown): boolean {
  const e = (err ?? {}) as SftpError;
  if (typeof e.code === "number") return false;
  return NETWORK_ERRORS.has(String(e.code ?? "")) || /no sftp connection|not connected|channel|connection|no response/i.test(e.message ?? "");
}

function errorCode(err: unknown): number | string | undefined {
  return (err as SftpError | undefined)?.code;
}

/** A callback-style SFTP call as a promise. */
function call<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

function etagOf(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 32);
}

interface Connection {
  readonly client: SftpClient;
  readonly sftp: SFTPWrapper;
  readonly socket: net.Socket;
  readonly hasFsync: boolean;
}

export class SftpReplicaClient implements ConditionalReplicaClient {
  readonly description: string;
  private readonly onRequest: (operation: string) => void;
  private readonly privateKey: Buffer | undefined;
  private connection: Promise<Connection> | null = null;
  /** Operations (and open read streams) in flight: the socket keeps the process alive only while there are some. */
  private busy = 0;
  /** Directories known to exist, to spare a round trip per write. */
  private readonly madeDirectories = new Set<string>();

  constructor(readonly location: SftpLocation, options: BackendOpenOptions) {
    this.description = options.description;
    this.onRequest = options.onRequest ?? (() => {});
    if (location.keyPath !== undefined) {
      try {
        this.privateKey = fs.readFileSync(location.keyPath);
      } catch (err) {
        throw new ReplicaUrlError(`cannot read the SFTP private key ${location.keyPath} (key-path of ${this.description}): ${(err as Error).message}`);
      }
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.onRequest("PutObject");
    await this.writeObject(key, [body], "replace");
  }

  async putStream(key: string, body: Readable): Promise<void> {
    this.onRequest("PutObject");
    try {
      await this.writeObject(key, body, "replace");
    } finally {
      body.destroy();
    }
  }

  async get(key: string): Promise<Readable> {
    this.onRequest("GetObject");
    const file = this.pathOf(key);
    return this.run("read", key, async ({ sftp }) => {
      let handle: Buffer;
      try {
        handle = await call<Buffer>((cb) => sftp.open(file, "r", cb));
      } catch (err) {
        if (errorCode(err) === NO_SUCH_FILE) throw new ReplicaObjectNotFoundError(key, this.description);
        throw err;
      }
      const stream = sftp.createReadStream(file, { handle, autoClose: true });
      // The stream outlives this call: the connection stays wanted until it closes.
      this.busy++;
      stream.once("close", () => this.idle());
      return stream;
    });
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    this.onRequest("GetObject");
    const body = await this.readSmall(key);
    return body === null ? null : { body, etag: etagOf(body) };
  }

  async putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    this.onRequest("PutObject");
    return (await this.writeObject(key, [body], "create")) ? etagOf(body) : null;
  }

  async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    // Without a lock first: a stale etag (the usual conflict) or a missing object needs no lock.
    if ((await this.getVersioned(key))?.etag !== etag) return null;
    const file = this.pathOf(key);
    const lock = path.join(path.dirname(file), `${TEMP_PREFIX}${path.basename(file)}.lock`);
    await this.takeLock(lock, key);
    try {
      if ((await this.getVersioned(key))?.etag !== etag) return null;
      await this.put(key, body);
      return etagOf(body);
    } finally {
      await this.run("unlock", key, ({ sftp }) => call((cb) => sftp.unlink(lock, cb))).catch(() => undefined);
    }
  }

  async *list(prefix: string): AsyncIterable<ReplicaObject> {
    this.onRequest("ListObjectsV2");
    // Walk only the deepest directory the prefix names whole; filter the rest by key.
    const slash = prefix.lastIndexOf("/");
    for await (const object of this.walk(slash < 0 ? "" : prefix.slice(0, slash + 1))) {
      if (object.key.startsWith(prefix)) yield object;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    this.onRequest("DeleteObjects");
    const parents = new Set<string>();
    await this.run("delete", keys[0]!, async ({ sftp }) => {
      for (const key of keys) {
        const file = this.pathOf(key);
        await call((cb) => sftp.unlink(file, cb)).catch((err: unknown) => {
          if (errorCode(err) !== NO_SUCH_FILE) throw err;
        });
        parents.add(path.dirname(file));
      }
      // Empty directories go too, as Litestream's do; a directory that is not empty stays.
      for (const dir of parents) {
        for (let d = dir; d !== this.rootDir() && d.startsWith(`${this.rootDir()}/`); d = path.dirname(d)) {
          if (!(await call((cb) => sftp.rmdir(d, cb)).then(() => true, () => false))) break;
          this.madeDirectories.delete(d);
        }
      }
    });
  }

  /** Closes the connection (tests; a server process just exits, which the idle socket allows). */
  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    const open = await connection?.catch(() => null);
    if (!open) return;
    open.socket.ref(); // the goodbye is awaited on this socket
    await open.client.end().catch(() => undefined);
  }

  private rootDir(): string {
    return this.location.root === "" ? "." : this.location.root;
  }

  /** The remote file for `key`; refuses keys that would leave the replica directory. */
  private pathOf(key: string): string {
    const parts = key.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..") || key.includes("\0")) throw new Error(`invalid replica key "${key}"`);
    return path.join(this.rootDir(), ...parts);
  }

  private async readSmall(key: string): Promise<Buffer | null> {
    const file = this.pathOf(key);
    return this.run("read", key, async ({ sftp }) => {
      try {
        return await call<Buffer>((cb) => sftp.readFile(file, cb));
      } catch (err) {
        if (errorCode(err) === NO_SUCH_FILE) return null;
        throw err;
      }
    });
  }

  /**
   * Writes the object through a temporary file. "replace" renames it over any existing
   * object (posix-rename@openssh.com); "create" renames it only if the name is free and
   * returns false if it was taken.
   */
  private async writeObject(key: string, chunks: AsyncIterable<Buffer | string> | Iterable<Buffer>, mode: "replace" | "create"): Promise<boolean> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}.tmp-${randomBytes(6).toString("hex")}`);
    return this.run("write", key, async (connection) => {
      const { sftp } = connection;
      try {
        const handle = await this.createInDirectory(connection, temp);
        try {
          let position = 0;
          for await (const chunk of chunks) {
            const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            for (let offset = 0; offset < data.length;) {
              const written = await call<number>((cb) => sftp.write(handle, data, offset, data.length - offset, position, (err) => cb(err, data.length - offset)));
              offset += written;
              position += written;
            }
          }
          if (connection.hasFsync) await call((cb) => sftp.ext_openssh_fsync(handle, cb));
        } finally {
          await call((cb) => sftp.close(handle, cb));
        }
        if (mode === "replace") {
          await call((cb) => sftp.ext_openssh_rename(temp, file, cb));
          return true;
        }
        try {
          await call((cb) => sftp.rename(temp, file, cb));
          return true;
        } catch (err) {
          // The protocol answers a taken name with a bare FAILURE: look whether that was it.
          const taken = await call<Stats>((cb) => sftp.stat(file, cb)).then(() => true, () => false);
          if (taken) return false;
          throw err;
        }
      } finally {
        await call((cb) => sftp.unlink(temp, cb)).catch(() => undefined);
      }
    }, Array.isArray(chunks));
  }

  /** Opens `file` for writing, exclusively, making missing directories (once per connection's knowledge). */
  private async createInDirectory(connection: Connection, file: string): Promise<Buffer> {
    const dir = path.dirname(file);
    for (let attempt = 1; ; attempt++) {
      if (!this.madeDirectories.has(dir)) {
        try {
          await connection.client.mkdir(dir, true);
        } catch (err) {
          // A concurrent write made it first (ssh2-sftp-client reports that as a failure).
          const made = await call<Stats>((cb) => connection.sftp.stat(dir, cb)).then((s) => s.isDirectory(), () => false);
          if (!made) throw err;
        }
        this.madeDirectories.add(dir);
      }
      try {
        return await call<Buffer>((cb) => connection.sftp.open(file, "wx", cb));
      } catch (err) {
        // A concurrent delete removed an empty directory we thought was there.
        if (errorCode(err) !== NO_SUCH_FILE || attempt === 3) throw err;
        this.madeDirectories.delete(dir);
      }
    }
  }

  /** Waits for the lock file to be free and creates it (CREAT|EXCL); breaks a lock a crash left behind. */
  private async takeLock(lock: string, key: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    // Judged by how long we have seen it unchanged, not by its mtime: the server's clock is not ours.
    let seen = null as { mtime: number; since: number } | null;
    for (;;) {
      const state = await this.run("lock", key, async ({ sftp }) => {
        try {
          const handle = await call<Buffer>((cb) => sftp.open(lock, "wx", cb));
          await call((cb) => sftp.close(handle, cb));
          return "taken" as const;
        } catch {
          // Taken by someone else (or just released: then look again).
          const stats = await call<Stats>((cb) => sftp.stat(lock, cb)).catch(() => null);
          return stats === null ? ("retry" as const) : stats.mtime;
        }
      });
      if (state === "taken") return;
      if (state !== "retry") {
        if (seen?.mtime !== state) seen = { mtime: state, since: Date.now() };
        if (Date.now() - seen.since > STALE_LOCK_MS) {
          await this.run("unlock", key, ({ sftp }) => call((cb) => sftp.unlink(lock, cb))).catch(() => undefined);
          continue;
        }
      }
      if (Date.now() > deadline) throw new Error(`${key} in ${this.description} stayed locked for ${LOCK_WAIT_MS} ms (lock file ${lock})`);
      await delay(10 + Math.random() * 20);
    }
  }

  private async *walk(keyPrefix: string): AsyncGenerator<ReplicaObject> {
    const dir = keyPrefix === "" ? this.rootDir() : this.pathOf(keyPrefix.slice(0, -1));
    const entries = await this.run("list", keyPrefix, async ({ sftp }) => {
      try {
        return await call<FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb));
      } catch (err) {
        if (errorCode(err) === NO_SUCH_FILE) return [];
        throw err;
      }
    });
    for (const entry of entries) {
      if (entry.filename.startsWith(TEMP_PREFIX)) continue;
      const key = keyPrefix + entry.filename;
      if (entry.attrs.isDirectory()) yield* this.walk(`${key}/`);
      else if (entry.attrs.isFile()) yield { key, size: entry.attrs.size, lastModified: new Date(entry.attrs.mtime * 1000) };
    }
  }

  /**
   * Runs `op` on the connection (connecting first if needed). A connection that broke is
   * dropped and the operation tried once more on a new one (unless it consumed a stream),
   * as Litestream resets its client.
   */
  private async run<T>(what: string, key: string, op: (connection: Connection) => Promise<T>, retryable = true): Promise<T> {
    this.busy++;
    try {
      for (let attempt = 1; ; attempt++) {
        let connection: Connection;
        try {
          connection = await this.connect();
        } catch (err) {
          throw this.translate(err, what, key);
        }
        connection.socket.ref();
        try {
          return await op(connection);
        } catch (err) {
          if (err instanceof ReplicaObjectNotFoundError) throw err;
          const broken = isConnectionError(err);
          if (broken) this.drop(connection);
          if (!broken || !retryable || attempt === 2) throw this.translate(err, what, key);
        }
      }
    } finally {
      this.idle();
    }
  }

  private idle(): void {
    if (--this.busy > 0 || !this.connection) return;
    void this.connection.then((c) => {
      if (this.busy === 0) c.socket.unref();
    }, () => undefined);
  }

  private drop(connection: Connection): void {
    if (this.connection) {
      void this.connection.then((c) => c === connection && (this.connection = null), () => undefined);
    }
    this.madeDirectories.clear();
    connection.socket.destroy();
  }

  private connect(): Promise<Connection> {
    if (this.connection) return this.connection;
    const { host, port, user, password, hostKey } = this.location;
    const attempt = (async (): Promise<Connection> => {
      const forget = () => {
        if (this.connection === attempt) this.connection = null;
        this.madeDirectories.clear();
      };
      // ssh2-sftp-client prints every end/close/error by default; ours only forget the connection.
      const client = new SftpClient("litepaste", { end: forget, close: forget, error: forget });
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const sftp = await client.connect({
        sock: socket,
        username: user,
        password,
        privateKey: this.privateKey,
        readyTimeout: CONNECT_TIMEOUT_MS,
        ...(hostKey ? {
          algorithms: { serverHostKey: [hostKey.type] as never },
          hostVerifier: (key: Buffer) => key.equals(hostKey.blob),
        } : {}),
      }) as unknown as SFTPWrapper;
      const extensions = (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
      return { client, sftp, socket, hasFsync: "fsync@openssh.com" in extensions };
    })();
    this.connection = attempt;
    attempt.catch(() => {
      if (this.connection === attempt) this.connection = null;
    });
    return attempt;
  }

  /** A clear error for a failed `what` (read, write, list…) of `key`; never quotes the password. */
  private translate(err: unknown, what: string, key: string): Error {
    const e = (err ?? {}) as SftpError;
    const where = this.description;
    const server = `${this.location.host}:${this.location.port}`;
    if (e.level === "client-authentication" || /authentication methods failed/i.test(e.message ?? "")) {
      return new Error(`the SFTP server ${server} rejected the login of user "${this.location.user}" for ${where}: check the password or key-path`, { cause: err });
    }
    if (/host denied|host key|verification failed/i.test(e.message ?? "")) {
      return new Error(`the SFTP server ${server} did not present the host-key given for ${where}`, { cause: err });
    }
    if (NETWORK_ERRORS.has(String(e.code ?? "")) || e.level === "client-socket" || e.level === "client-timeout") {
      return new Error(`cannot reach the SFTP server ${server} (${e.code ?? e.level}: ${e.message ?? ""}) for ${where}`, { cause: err });
    }
    if (e.code === PERMISSION_DENIED) {
      return new Error(`the SFTP server ${server} denied the ${what} of ${key || "/"} in ${where} (permission denied): check what user "${this.location.user}" may write`, { cause: err });
    }
    return new Error(`SFTP ${what} of ${key || "/"} failed in ${where}: ${e.message ?? String(err)}`, { cause: err });
  }
}

/** The sftp:// replica type's opener (see ../url.ts); throws ReplicaUrlError. */
export function openSftpReplicaClient(url: string, _env: NodeJS.ProcessEnv, options: BackendOpenOptions): SftpReplicaClient {
  return new SftpReplicaClient(parseSftpUrl(url, options.description), options);
}
