/**
 * One request to the local STS and its answer: the XML response written with STS's headers, and the call-log
 * entry each request leaves (with the answered status, or 0 when it was dropped). Never records a secret.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalStsFault } from './faults.js';
import type { StsQueryRequest } from './query-parameters.js';
import { errorXml, successXml, type LocalStsFailure, type XmlNode } from './wire-format.js';

/** One call as the server saw it (never with a secret). */
export interface LocalStsCall {
  action: string;
  /** HTTP status answered; 0 when the socket was reset / the call was abandoned. */
  status: number;
  roleArn?: string;
  fault?: LocalStsFault['kind'];
  /** STS error code, when the answer was an error. */
  errorCode?: string;
}

/** Writes an STS XML response, unless the response is gone or already started. */
export function sendXml(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  now: () => number,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const payload = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': String(payload.length),
    'x-amzn-requestid': requestId,
    date: new Date(now()).toUTCString(),
    ...headers,
  });
  res.end(payload);
}

/** A parsed request with its response; each answer is recorded through `log`. */
export class StsExchange {
  /** The RoleArn of an AssumeRole* call, for the call log. */
  readonly roleArn?: string;
  /** The kind of fault injected into this call, if any. */
  fault?: LocalStsFault['kind'];

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly request: StsQueryRequest,
    private readonly now: () => number,
    private readonly log: (call: LocalStsCall) => void,
  ) {
    const { action, params } = request;
    if (action === 'AssumeRole' || action.startsWith('AssumeRoleWith')) this.roleArn = params.get('RoleArn') ?? undefined;
  }

  /** Answers 200 with the `<Action>Response` of `result`. */
  succeed(result: XmlNode): void {
    if (this.res.destroyed) {
      this.record(0);
      return;
    }
    this.sendXml(200, successXml(this.request.action, result, this.requestId));
    this.record(200);
  }

  /** Answers the failure's status with its `ErrorResponse`. */
  fail(err: LocalStsFailure, headers: Record<string, string> = {}): void {
    if (this.res.destroyed) {
      this.record(0, err.code);
      return;
    }
    this.sendXml(err.status, errorXml(err, this.requestId), headers);
    this.record(err.status, err.code);
  }

  /** Answers 200 with this body as it is. */
  sendBody(body: string): void {
    this.sendXml(200, body);
    this.record(200);
  }

  /** Records the call as abandoned (status 0); the caller drops the connection if needed. */
  abandon(): void {
    this.record(0);
  }

  private sendXml(status: number, body: string, headers: Record<string, string> = {}): void {
    sendXml(this.res, status, body, this.requestId, this.now, headers);
  }

  private record(status: number, errorCode?: string): void {
    const call: LocalStsCall = { action: this.request.action || 'Unknown', status };
    if (this.roleArn !== undefined) call.roleArn = this.roleArn;
    if (this.fault !== undefined) call.fault = this.fault;
    if (errorCode !== undefined) call.errorCode = errorCode;
    this.log(call);
  }
}
