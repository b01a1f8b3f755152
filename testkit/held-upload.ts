// An upload whose body the test sends when it likes, over a raw TCP socket: to hold uploads
// open (the in-flight budget), to stream bodies far larger than the test wants to build in
// memory, and to stop sending as soon as the server has answered, as a real client would.

import net from "node:net";
import { parseResponse, type RawOutcome } from "./raw-http.js";

export interface HeldUpload {
  /** Sends bytes, waiting while the socket is full; false once the server has answered or closed. */
  send(bytes: Buffer | string): Promise<boolean>;
  /** The first whole response, or "closed"/"garbled" when the connection ends without one. */
  readonly answer: Promise<RawOutcome>;
  /** True once the answer has arrived or the connection is gone. */
  readonly done: boolean;
  /** Closes the connection (a client giving up). */
  destroy(): void;
}

/** Connects and sends `head` (request line and headers, ending in an empty line). */
export function holdUpload(port: number, head: string): HeldUpload {
  const socket = net.connect({ host: "127.0.0.1", port });
  let received = Buffer.alloc(0);
  let done = false;
  let settle!: (outcome: RawOutcome) => void;
  const answer = new Promise<RawOutcome>((resolve) => (settle = resolve));
  const finish = (outcome: RawOutcome) => {
    if (done) return;
    done = true;
    settle(outcome);
  };
  socket.on("error", () => {}); // a reset after the answer is expected; it shows as "close"
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const parsed = parseResponse(received, false, false);
    if (parsed === "garbled") finish({ kind: "garbled", bytes: received });
    else if (parsed) finish(parsed);
  });
  socket.on("close", () => {
    const parsed = received.length === 0 ? null : parseResponse(received, false, true);
    finish(parsed && parsed !== "garbled" ? parsed : received.length === 0 ? { kind: "closed" } : { kind: "garbled", bytes: received });
  });
  const send = async (bytes: Buffer | string): Promise<boolean> => {
    if (done || socket.destroyed) return false;
    if (socket.write(bytes)) return true;
    await new Promise<void>((resolve) => {
      const go = () => {
        socket.off("drain", go);
        socket.off("close", go);
        resolve();
      };
      socket.on("drain", go);
      socket.on("close", go);
    });
    return !done && !socket.destroyed;
  };
  void send(head);
  return {
    send,
    answer,
    get done() {
      return done;
    },
    destroy: () => socket.destroy(),
  };
}
