// Child process: PUTs pastes at a litepaste server (the load generator runs apart from the
// server and from the process that measures), and prints one JSON line: for every answer
// its status, the paste id, when it arrived (epoch ms) and its latency.
//
// Closed loop (`amount`): autocannon with `connections` clients. Open loop (`rate`): pastes
// sent at Poisson (or evenly spaced) arrival times, because autocannon's rate limit releases each second's
// budget in one burst, which would fall in step with a 1 s sync timer and leave most
// phases of the interval unsampled.
//
//   node proc-put-load.js '{"url":"http://127.0.0.1:3001","connections":1,"amount":200,"bodyBytes":1024}'
//   ... '{"url":...,"connections":1,"rate":20,"durationSeconds":6,"bodyBytes":1024}'
//
// Bodies are slices of a random text pool at random offsets, so that pastes differ and
// compress like text rather than like one repeated string.

import autocannon from "autocannon";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { epochNow } from "./stats.js";

export interface PutLoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly bodyBytes: number;
  /** Closed loop: this many requests, as fast as the server answers. */
  readonly amount?: number;
  /** Open loop: this many requests per second on average, for `durationSeconds`. */
  readonly rate?: number;
  readonly durationSeconds?: number;
  /** Open loop: Poisson arrivals (default) or evenly spaced ones. */
  readonly arrivals?: "poisson" | "even";
}

export interface PutAnswer {
  readonly status: number;
  /** The paste id from the JSON answer; "" when the answer was not a 200. */
  readonly id: string;
  /** Epoch ms when the answer was complete. */
  readonly at: number;
  readonly latencyMs: number;
}

export interface PutLoadResult {
  readonly answers: PutAnswer[];
  readonly errors: number;
  readonly durationSeconds: number;
}

const POOL = randomBytes(48 * 1024).toString("base64");

function body(bytes: number): string {
  const start = Math.floor(Math.random() * (POOL.length - bytes));
  return POOL.slice(start, start + bytes);
}

function idOf(status: number, answer: string): string {
  return status === 200 ? (JSON.parse(answer) as { id: string }).id : "";
}

function put(agent: http.Agent, url: string, bytes: number): Promise<PutAnswer> {
  const sent = performance.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method: "PUT", agent }, (res) => {
      let answer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (answer += chunk));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolve({ status, id: idOf(status, answer), at: epochNow(), latencyMs: performance.now() - sent });
      });
    });
    req.on("error", () => resolve({ status: 0, id: "", at: epochNow(), latencyMs: performance.now() - sent }));
    req.end(body(bytes));
  });
}

async function openLoop(options: PutLoadOptions, rate: number): Promise<PutLoadResult> {
  const agent = new http.Agent({ keepAlive: true });
  const pending: Array<Promise<PutAnswer>> = [];
  const started = performance.now();
  const end = started + (options.durationSeconds ?? 5) * 1000;
  for (let next = started; ; ) {
    next += (options.arrivals === "even" ? 1 : -Math.log(1 - Math.random())) * (1000 / rate);
    if (next >= end) break;
    await delay(Math.max(0, next - performance.now()));
    pending.push(put(agent, options.url, options.bodyBytes));
  }
  const answers = await Promise.all(pending);
  agent.destroy();
  return { answers, errors: answers.filter((a) => a.status === 0).length, durationSeconds: (performance.now() - started) / 1000 };
}

async function closedLoop(options: PutLoadOptions): Promise<PutLoadResult> {
  const acks: Array<{ status: number; id: string; at: number }> = [];
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    amount: options.amount,
    timeout: 30,
    requests: [
      {
        method: "PUT",
        setupRequest: (req) => ({ ...req, body: body(options.bodyBytes) }),
        onResponse: (status, answer) => acks.push({ status, id: idOf(status, answer), at: epochNow() }),
      },
    ],
  });
  // 'response' follows onResponse synchronously for the same answer, so the two lists pair up.
  instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  return {
    answers: acks.map((a, i) => ({ ...a, latencyMs: latencies[i] ?? Number.NaN })),
    errors: result.errors + result.timeouts,
    durationSeconds: result.duration,
  };
}

const options = JSON.parse(process.argv[2]!) as PutLoadOptions;
const result = options.rate !== undefined ? await openLoop(options, options.rate) : await closedLoop(options);
process.stdout.write(`${JSON.stringify(result)}\n`);
