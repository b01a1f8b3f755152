// HTTP exchanges over a raw TCP socket, for requests no HTTP client would send: the bytes
// go out as given (several requests pipelined on one connection, or piece by piece as a
// slow client sends them); the answers are parsed by hand, one after another.

import net from "node:net";

export type RawOutcome =
  /** A whole HTTP/1.x response. */
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: ReadonlyMap<string, string>;
      readonly body: Buffer;
      /** The response exactly as received, status line to the end of the body. */
      readonly bytes: Buffer;
    }
  /** The server closed the connection before a byte of this answer. */
  | { readonly kind: "closed" }
  /** Bytes that are not (or not a whole) HTTP response: always a failure. */
  | { readonly kind: "garbled"; readonly bytes: Buffer }
  | { readonly kind: "timeout"; readonly bytes: Buffer };

export interface RawRequest {
  readonly bytes: Buffer;
  /** Whether it asks for HEAD (its answer has no body). */
  readonly head: boolean;
  /** Framed exactly and asks to keep the connection open. */
  readonly keepAlive?: boolean;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** Where a chunked body that starts at `from` ends (after its trailer); null if more may come; -1 if it cannot be one. */
function chunkedEnd(bytes: Buffer, from: number): number | null {
  let at = from;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = /^([0-9a-fA-F]+)(?:;.*)?$/.exec(bytes.subarray(at, lineEnd).toString("latin1"));
    if (!size) return -1;
    const length = parseInt(size[1]!, 16);
    if (length === 0) {
      const trailerEnd = bytes.indexOf("\r\n\r\n", lineEnd);
      if (bytes.subarray(lineEnd, lineEnd + 4).equals(HEAD_END)) return lineEnd + 4;
      return trailerEnd < 0 ? null : trailerEnd + 4;
    }
    at = lineEnd + 2 + length + 2;
    if (at > bytes.length) return null;
  }
}

type Parsed = { readonly outcome: RawOutcome; readonly end: number } | null | "garbled";

/** The response at the start of `bytes` and where it ends, if it is complete; null if more may come. */
function parseAt(bytes: Buffer, requestWasHead: boolean, closed: boolean): Parsed {
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
  const bodyStart = headEnd + 4;
  const done = (end: number): Parsed => ({
    outcome: { kind: "response", status: code, headers, body: bytes.subarray(bodyStart, end), bytes: bytes.subarray(0, end) },
    end,
  });
  // An interim answer (100 Continue): the final one follows.
  if (code >= 100 && code < 200) {
    const rest = bytes.subarray(bodyStart);
    // Closed after the interim answer alone (Node drops the request when the client half-closes): no answer.
    if (closed && rest.length === 0) return { outcome: { kind: "closed" }, end: bodyStart };
    const final = parseAt(rest, requestWasHead, closed);
    return final && final !== "garbled" ? { outcome: final.outcome, end: bodyStart + final.end } : final;
  }
  if (code === 204 || code === 304) return done(bodyStart);
  if (requestWasHead) {
    // An answer to HEAD has no body, unless the server wrote it before it could parse the
    // request line (Node's 400/431 for a malformed request): then it has one, and the
    // connection closes. What follows tells: the next answer, body bytes, or a kept connection.
    const next = bytes.subarray(bodyStart, bodyStart + 7).toString("latin1");
    if (next === "" && !closed && headers.get("connection")?.toLowerCase() !== "keep-alive") return null;
    if (next === "" || "HTTP/1.".startsWith(next) || next.startsWith("HTTP/1.")) return done(bodyStart);
  }
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    const end = chunkedEnd(bytes, bodyStart);
    return end === -1 ? "garbled" : end === null ? null : done(end);
  }
  const length = headers.get("content-length");
  if (length === undefined) return closed ? done(bytes.length) : null; // the body runs to the end of the connection
  if (!/^\d+$/.test(length)) return "garbled";
  return bytes.length - bodyStart >= Number(length) ? done(bodyStart + Number(length)) : null;
}

/** The first response in `bytes` if it is complete; null if more may come; "garbled" if it cannot be one. Also for testkit/held-upload.ts. */
export function parseResponse(bytes: Buffer, requestWasHead: boolean, closed: boolean): RawOutcome | null | "garbled" {
  const parsed = parseAt(bytes, requestWasHead, closed);
  return parsed === null || parsed === "garbled" ? parsed : parsed.outcome;
}

/**
 * Sends the requests back to back on one connection and reads their answers in order. The
 * leading keep-alive requests go out at once (pipelined); a last request that is not
 * keep-alive goes once they are answered, followed by the client's half-close (Node drops
 * answers still pending when the client half-closes, so it must not cut the pipelined ones
 * short). A request the server never answered because it closed the connection first
 * (after a bad or a `Connection: close` request) is "closed"; `timeoutMs` bounds the whole
 * exchange.
 */
export function rawPipeline(port: number, requests: readonly RawRequest[], options: { timeoutMs: number }): Promise<RawOutcome[]> {
  return new Promise((resolve) => {
    const outcomes: RawOutcome[] = [];
    const last = requests[requests.length - 1]!;
    const pipelined = last.keepAlive ? requests : requests.slice(0, -1);
    let tailSent = pipelined.length === requests.length;
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: "127.0.0.1", port });
    const sendTail = () => {
      tailSent = true;
      socket.end(last.bytes);
    };
    const settle = (final?: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (final) outcomes.push(final);
      while (outcomes.length < requests.length) outcomes.push({ kind: "closed" });
      resolve(outcomes);
    };
    /** Takes every complete answer off `received`; false once it is garbled. */
    const take = (closed: boolean): boolean => {
      while (outcomes.length < requests.length && received.length > 0) {
        const parsed = parseAt(received, requests[outcomes.length]!.head, closed);
        if (parsed === "garbled") return false;
        if (parsed === null) return true;
        outcomes.push(parsed.outcome);
        received = received.subarray(parsed.end);
      }
      return true;
    };
    const timer = setTimeout(() => settle({ kind: "timeout", bytes: received }), options.timeoutMs);
    socket.on("error", () => {}); // a reset shows as "close"; what was received is judged there
    socket.on("connect", () => {
      if (pipelined.length === 0) sendTail();
      else socket.write(Buffer.concat(pipelined.map((r) => r.bytes)));
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!take(false)) settle({ kind: "garbled", bytes: received });
      // Bytes past the last answer are the server's answer to what followed a short Content-Length: not ours to judge.
      else if (outcomes.length === requests.length) settle();
      else if (!tailSent && outcomes.length === pipelined.length) sendTail();
    });
    socket.on("close", () => {
      if (!take(true) || (received.length > 0 && outcomes.length < requests.length)) settle({ kind: "garbled", bytes: received });
      else settle();
    });
  });
}

/** One request on a connection of its own: its answer. */
export async function rawExchange(port: number, request: Buffer, options: { head: boolean; timeoutMs: number }): Promise<RawOutcome> {
  const [outcome] = await rawPipeline(port, [{ bytes: request, head: options.head }], options);
  return outcome!;
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
