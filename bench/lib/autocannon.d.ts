// autocannon ships no types: the part of its API the load worker uses.
declare module "autocannon" {
  interface Histogram {
    readonly average: number;
    readonly max: number;
    readonly p50: number;
    readonly p99: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    requests?: Array<{ method?: string; path?: string; body?: string; headers?: Record<string, string> }>;
  }
  interface Result {
    readonly duration: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly "2xx": number;
    readonly statusCodeStats: Record<string, { count: number }>;
    readonly requests: Histogram & { readonly sent: number };
    readonly latency: Histogram;
    readonly throughput: Histogram;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
