// A real HTTP proxy on 127.0.0.1 in front of s3rver that can hold requests back until the
// test releases them (to look at a server while its restore or its first snapshot is in
// flight, whatever the machine's speed), and refuse some with AccessDenied, as S3 answers a
// GET of a missing key to credentials without s3:ListBucket. Everything else is s3rver's.

import http from "node:http";
import type { AddressInfo } from "node:net";

/** Which requests a rule applies to: the method and the path (/BUCKET/KEY, path-style). */
export type RequestMatch = (method: string, path: string) => boolean;

export interface S3GateProxy {
  readonly endpoint: string;
  /** A replica URL for `prefix` in `bucket` through this proxy. */
  url(bucket: string, prefix: string): string;
  /** Requests matching `match` wait from now on until release(). */
  hold(match: RequestMatch): void;
  /** Lets every held request through, and holds nothing more. */
  release(): void;
  /** Requests held and not yet released. */
  readonly waiting: number;
  /** Requests matching `match` are answered 403 AccessDenied (null: none). */
  deny(match: RequestMatch | null): void;
  /** How many requests were denied so far. */
  readonly denied: number;
  close(): Promise<void>;
}

export async function startS3GateProxy(target: string): Promise<S3GateProxy> {
  const upstream = new URL(target);
  let holding: RequestMatch | null = null;
  let denying: RequestMatch | null = null;
  let held: (() => void)[] = [];
  let denied = 0;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  };
  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://proxy").pathname);
    if (denying?.(method, path)) {
      denied++;
      req.resume();
      res.writeHead(403, { "content-type": "application/xml" });
      res.end("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
      return;
    }
    if (holding?.(method, path)) {
      // Paused, not read: the body waits in the socket with the request.
      req.pause();
      held.push(() => forward(req, res));
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    url: (bucket, prefix) => `s3://${bucket}/${prefix}?endpoint=${endpoint}`,
    hold(match) {
      holding = match;
    },
    release() {
      holding = null;
      const go = held;
      held = [];
      for (const next of go) next();
    },
    get waiting() {
      return held.length;
    },
    deny(match) {
      denying = match;
    },
    get denied() {
      return denied;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
