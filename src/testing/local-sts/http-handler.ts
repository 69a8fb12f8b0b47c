import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sendXml, StsExchange, type LocalStsCall } from './exchange.js';
import { faultEffect, PendingDelays, type FaultInjector, type LocalStsFault } from './faults.js';
import { parseQueryRequest, type StsQueryRequest } from './query-parameters.js';
import { errorXml, LocalStsFailure, validationFailure, type XmlNode } from './wire-format.js';

const MAX_BODY_BYTES = 64 * 1024;
/** The key of the in-flight counter of every action together. */
const ANY_ACTION = '*';

function noop(): void {
  /* ignore */
}

/**
 * The HTTP side of the local STS endpoint: reads each request, counts it in flight, applies an injected fault,
 * answers it by `route` and records it in the call log (never with a secret). Nothing here logs.
 */
export class LocalStsHttp {
  private readonly delays = new PendingDelays();
  private readonly callLog: LocalStsCall[] = [];
  /** Requests of each action being handled now, and the most there were at once since the last resetCalls(). */
  private readonly running = new Map<string, { now: number; peak: number }>();
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private closing?: Promise<void>;

  constructor(
    private readonly server: Server,
    private readonly now: () => number,
    private readonly faults: FaultInjector,
    private readonly route: (request: StsQueryRequest) => Promise<XmlNode>,
  ) {}

  /** Starts answering the server's requests and keeping track of its connections. */
  listen(): void {
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('connection', (socket: Socket) => this.onConnection(socket));
    this.server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    this.server.on('error', noop);
  }

  /** A copy of the calls answered (or abandoned) so far, oldest first. */
  get calls(): ReadonlyArray<LocalStsCall> {
    return this.callLog.map((c) => ({ ...c }));
  }

  /** Number of calls so far, of one action when given. */
  callCount(action?: string): number {
    return action === undefined ? this.callLog.length : this.callLog.filter((c) => c.action === action).length;
  }

  /** The most requests of `action` (of any action when not given) the server was handling at once, from body to answer. */
  peakInFlight(action?: string): number {
    return this.running.get(action ?? ANY_ACTION)?.peak ?? 0;
  }

  /** Empties the call log, and starts each action's peak in flight again from the requests running now. */
  resetCalls(): void {
    this.callLog.length = 0;
    for (const counter of this.running.values()) counter.peak = counter.now;
  }

  /** Stops listening, cancels delays and destroys open connections; idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.delays.cancelAll();
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', noop);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', noop);
    res.on('error', noop);
    this.handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        const requestId = randomUUID();
        sendXml(res, 500, errorXml(new LocalStsFailure('InternalFailure'), requestId), requestId, this.now);
      } else {
        res.destroy();
      }
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let body: Buffer;
    try {
      body = await this.readBody(req);
    } catch {
      if (!res.destroyed && !res.headersSent) {
        const err = validationFailure('Request body is too large.');
        sendXml(res, err.status, errorXml(err, requestId), requestId, this.now, { connection: 'close' });
      }
      req.destroy();
      return;
    }
    const request = parseQueryRequest(req, body);
    const counters = [request.action, ANY_ACTION].map((key) => {
      const counter = this.running.get(key) ?? { now: 0, peak: 0 };
      this.running.set(key, counter);
      counter.peak = Math.max(counter.peak, ++counter.now);
      return counter;
    });
    try {
      await this.answer(req, res, requestId, request);
    } finally {
      for (const counter of counters) counter.now--;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse, requestId: string, request: StsQueryRequest): Promise<void> {
    const exchange = new StsExchange(req, res, requestId, request, this.now, (call) => this.callLog.push(call));

    const fault = this.faults.take(request.action);
    if (fault) {
      exchange.fault = fault.kind;
      const handled = await this.applyFault(exchange, fault);
      if (handled) return;
    }
    if (this.closed || res.destroyed) {
      exchange.abandon();
      return;
    }

    try {
      exchange.succeed(await this.route(exchange.request));
    } catch (err) {
      exchange.fail(err instanceof LocalStsFailure ? err : new LocalStsFailure('InternalFailure'));
    }
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > MAX_BODY_BYTES) throw new Error('body too large');
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }

  /** Returns true when the fault fully handled (answered or dropped) the request. */
  private async applyFault(exchange: StsExchange, fault: LocalStsFault): Promise<boolean> {
    const { action, received } = exchange.request;
    const effect = faultEffect(fault, action, received.headers['x-amz-date'] ?? '', this.now);
    switch (effect.kind) {
      case 'error':
        exchange.fail(effect.failure, effect.headers);
        return true;
      case 'body':
        exchange.sendBody(effect.body);
        return true;
      case 'reset':
        exchange.abandon();
        exchange.req.socket.destroy();
        return true;
      case 'delay': {
        const elapsed = await this.delays.wait(effect.ms, exchange.res);
        if (!elapsed) {
          exchange.abandon();
          if (!exchange.res.destroyed) exchange.req.socket.destroy();
          return true;
        }
        return false;
      }
    }
  }
}
