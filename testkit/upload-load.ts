// Steady write load on a running server: a few clients uploading random pastes, each
// pausing between uploads, every answer kept with the body it answered.

import { setTimeout as sleep } from "node:timers/promises";
import { randomPasteBody, upload, type UploadAnswer } from "./paste-client.js";
import { seededRandom } from "./workload.js";

export interface Answered extends UploadAnswer {
  readonly body: Buffer;
}

export interface UploadLoad {
  /** Every answer so far, in arrival order. */
  readonly answers: Answered[];
  /** Uploads that got no answer (connection refused or cut). */
  readonly unanswered: number;
  /** Uploads sent and not answered yet. */
  readonly inFlight: number;
  /** Lets the uploads in flight finish, then resolves. */
  stop(): Promise<void>;
}

export interface LoadOptions {
  readonly clients: number;
  readonly pauseMs: number;
  readonly seed: number;
  /** Default: randomPasteBody. */
  readonly body?: (random: () => number) => Buffer;
}

export function startUploads(url: string, options: LoadOptions): UploadLoad {
  const random = seededRandom(options.seed);
  const answers: Answered[] = [];
  let unanswered = 0;
  let inFlight = 0;
  let stopping = false;
  const client = async () => {
    while (!stopping) {
      const body = (options.body ?? randomPasteBody)(random);
      inFlight++;
      try {
        answers.push({ ...(await upload(url, body)), body });
      } catch {
        unanswered++;
      } finally {
        inFlight--;
      }
      await sleep(options.pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: options.clients }, client));
  return {
    answers,
    get unanswered() {
      return unanswered;
    },
    get inFlight() {
      return inFlight;
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}
