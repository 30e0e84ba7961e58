import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A small HTTP/1.1 load generator for the bench (issue 18): `connections` keep-alive sockets, each
 * sending its next request as soon as the answer to the last one is complete, for `seconds`. It
 * reads only the status line and Content-Length, so it costs the loaded machine little; the
 * server under test runs in a process of its own (pinned to one core where `taskset` exists).
 */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers by status; anything but the expected one is counted and reported. */
  statuses: Record<number, number>;
}

export interface LoadOptions {
  port: number;
  connections: number;
  seconds: number;
  /** The next request of connection `c`, given the last answer's body (or null before the first). */
  next: (c: number, lastBody: string | null) => LoadRequest;
  /** Seconds of load before the measurement starts (statements prepared, caches warm). */
  warmup?: number;
}

function encode(request: LoadRequest): Buffer {
  const body = request.body ?? '';
  const headers = { host: '127.0.0.1', connection: 'keep-alive', ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...request.headers };
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n${body}`);
}

/** One keep-alive connection: sends a request, resolves with its status and body. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((answer: { status: number; body: string }) => void) | null = null;
  private failed: ((error: Error) => void) | null = null;
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('error', (error) => this.failed?.(error));
    socket.on('close', () => this.failed?.(new Error('the server closed the connection')));
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  private parse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    // A 304 or 204 has no body, and says so by its status (RFC 9110 §8.6).
    const bodiless = status === 304 || status === 204;
    if (!length && !bodiless) throw new Error(`the bench needs Content-Length answers: ${head.split('\r\n')[0]}`);
    const total = end + 4 + (bodiless ? 0 : Number(length![1]));
    if (this.buffer.length < total) return;
    const body = this.buffer.subarray(end + 4, total).toString('utf8');
    this.buffer = this.buffer.subarray(total);
    const resolve = this.waiting;
    this.waiting = null;
    this.failed = null;
    resolve({ status, body });
  }

  send(request: LoadRequest): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(encode(request));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const connections = await Promise.all(Array.from({ length: options.connections }, () => Connection.open(options.port)));
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let measuring = false;
  const warmupUntil = performance.now() + (options.warmup ?? 1) * 1000;
  let stopAt = Infinity;
  let started = 0;
  const run = async (c: number) => {
    let last: string | null = null;
    for (;;) {
      const now = performance.now();
      if (!measuring && now >= warmupUntil) {
        measuring = true;
        started = now;
        stopAt = now + options.seconds * 1000;
      }
      if (now >= stopAt) return;
      const t0 = performance.now();
      const answer = await connections[c]!.send(options.next(c, last));
      const elapsed = performance.now() - t0;
      last = answer.body;
      if (measuring && t0 >= started) {
        latencies.push(elapsed);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      }
    }
  };
  await Promise.all(connections.map((_, c) => run(c)));
  const seconds = (performance.now() - started) / 1000;
  for (const connection of connections) connection.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN, statuses };
}
