// HTTP over a raw TCP socket, for requests no HTTP client would send: the bytes go out as
// given (all at once, or piece by piece as a slow client sends them); the answer is parsed by hand.

import net from "node:net";

export type RawOutcome =
  /** A whole HTTP/1.x response (the first one, if several requests were sent). */
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: ReadonlyMap<string, string>;
      readonly body: Buffer;
      /** The response exactly as received, status line to the end of the body. */
      readonly bytes: Buffer;
    }
  /** The server closed the connection without a byte. */
  | { readonly kind: "closed" }
  /** Bytes that are not (or not a whole) HTTP response: always a failure. */
  | { readonly kind: "garbled"; readonly bytes: Buffer }
  | { readonly kind: "timeout"; readonly bytes: Buffer };

const HEAD_END = Buffer.from("\r\n\r\n");

/** The response in `bytes` if it is complete; null if more may come; "garbled" if it cannot be one. Also for testkit/held-upload.ts. */
export function parseResponse(bytes: Buffer, requestWasHead: boolean, closed: boolean): RawOutcome | null | "garbled" {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) {
    const start = bytes.subarray(0, 7).toString("latin1");
    return "HTTP/1.".startsWith(start) ? null : "garbled";
  }
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine!);
  if (!status) return "garbled";
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return "garbled";
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const code = Number(status[1]);
  const rest = bytes.subarray(headEnd + 4);
  const done = (body: Buffer): RawOutcome => ({ kind: "response", status: code, headers, body, bytes: bytes.subarray(0, headEnd + 4 + body.length) });
  // An interim answer (100 Continue): the final one follows.
  if (code >= 100 && code < 200) return parseResponse(rest, requestWasHead, closed);
  if (requestWasHead || code === 204 || code === 304) return done(Buffer.alloc(0));
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    return rest.includes("0\r\n\r\n") ? done(rest) : null;
  }
  const length = headers.get("content-length");
  if (length === undefined) return closed ? done(rest) : null; // the body runs to the end of the connection
  if (!/^\d+$/.test(length)) return "garbled";
  return rest.length >= Number(length) ? done(rest.subarray(0, Number(length))) : null;
}

/** One request on a fresh connection, then the client half-closes. */
export function rawExchange(port: number, request: Buffer, options: { head: boolean; timeoutMs: number }): Promise<RawOutcome> {
  const connection = rawConnection(port, options);
  connection.end(request);
  return connection.outcome;
}

export interface RawConnection {
  /** Sends more bytes on the open connection. */
  write(bytes: string | Buffer): void;
  /** Sends the last bytes and half-closes. */
  end(bytes: string | Buffer): void;
  /** Whether the server has answered or closed yet. */
  readonly settled: boolean;
  /** The server's answer (or its close), or "timeout" after `timeoutMs`. */
  readonly outcome: Promise<RawOutcome>;
  close(): void;
}

/** A connection held open: the request goes out piece by piece, as a slow client sends it. */
export function rawConnection(port: number, options: { timeoutMs: number; head?: boolean }): RawConnection {
  let received = Buffer.alloc(0);
  let settled = false;
  let resolve!: (outcome: RawOutcome) => void;
  const outcome = new Promise<RawOutcome>((r) => (resolve = r));
  // Writes before the connection is up are queued by the socket.
  const socket = net.connect({ host: "127.0.0.1", port });
  const settle = (result: RawOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    resolve(result);
  };
  const timer = setTimeout(() => settle({ kind: "timeout", bytes: received }), options.timeoutMs);
  socket.on("error", () => {}); // a reset shows as "close"; what was received is judged there
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const parsed = parseResponse(received, options.head ?? false, false);
    if (parsed === "garbled") settle({ kind: "garbled", bytes: received });
    else if (parsed) settle(parsed);
  });
  socket.on("close", () => {
    if (received.length === 0) return settle({ kind: "closed" });
    const parsed = parseResponse(received, options.head ?? false, true);
    settle(parsed && parsed !== "garbled" ? parsed : { kind: "garbled", bytes: received });
  });
  return {
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    end: (bytes) => {
      if (!socket.destroyed) socket.end(bytes);
    },
    get settled() {
      return settled;
    },
    outcome,
    close: () => settle({ kind: "closed" }),
  };
}
