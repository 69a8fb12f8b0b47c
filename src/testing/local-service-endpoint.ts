/**
 * A tiny local S3 + DynamoDB endpoint on loopback, for an app's tests (and this library's): it records which access key signed each request
 * (read from the SigV4 `Authorization` header's credential scope, with its region and service) and answers with
 * success or with the error code a test chooses, in each service's real wire format:
 *
 * - S3 (REST-XML): `ListBuckets` answers an empty bucket list; an error is `<Error><Code>…</Code>…</Error>` with
 *   the status S3 uses for that code (403 for `InvalidAccessKeyId`, 400 for `ExpiredToken`, 500 for `InternalError`).
 * - DynamoDB (JSON 1.0): `ListTables` answers no tables; an error is `{"__type":"com.amazon.coral.service#…"}` with
 *   400 (500 for `InternalFailure`).
 *
 * Signatures are not verified: the point is who signed, not whether the signature holds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the endpoint saw it. */
export interface SignedRequest {
  /** From the credential scope: `s3` or `dynamodb`. */
  service: string;
  region: string;
  accessKeyId: string;
  /** The request's path and query (for S3 `ListBuckets`, its `prefix` tells one caller's request from another's). */
  url: string;
}

/** Decides the answer to a request: an error code to answer with, or undefined for success. */
export type ServiceRule = (request: SignedRequest) => string | undefined;

const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

const S3_STATUS: Record<string, number> = {
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  AccessDenied: 403,
  ExpiredToken: 400,
  InternalError: 500,
};
const DYNAMODB_STATUS: Record<string, number> = { InternalFailure: 500, InternalServerError: 500 };

/**
 * Starts a local S3 + DynamoDB endpoint on a free loopback port. Point a client at it with
 * `{ endpoint: local.url, forcePathStyle: true }` (S3) or `{ endpoint: local.url }` (DynamoDB), then read
 * `local.requests` to see which access key signed each request. `close()` it when done.
 */
export async function startLocalServiceEndpoint(): Promise<LocalServiceEndpoint> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return new LocalServiceEndpoint(server);
}

/** A running local S3 + DynamoDB endpoint: where it listens, what it received, and how it answers. */
export class LocalServiceEndpoint {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: SignedRequest[] = [];
  #rule: ServiceRule = () => undefined;
  readonly #sockets = new Set<Socket>();

  /** Made by `startLocalServiceEndpoint()`. */
  constructor(private readonly server: Server) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.once('end', () => this.#answer(req, res));
    });
  }

  /** How to answer from now on (default: success for everyone). */
  answer(rule: ServiceRule): void {
    this.#rule = rule;
  }

  /** Forgets the requests and answers success again. */
  reset(): void {
    this.requests.length = 0;
    this.#rule = () => undefined;
  }

  /** Stops listening and drops open connections. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const scope = CREDENTIAL_SCOPE.exec(req.headers.authorization ?? '');
    if (scope === null) return this.#send(res, 400, 'text/plain', 'unsigned request');
    const request: SignedRequest = { accessKeyId: scope[1]!, region: scope[2]!, service: scope[3]!, url: req.url ?? '' };
    this.requests.push(request);
    const code = this.#rule(request);
    if (request.service === 'dynamodb') {
      const type = 'application/x-amz-json-1.0';
      if (code === undefined) return this.#send(res, 200, type, JSON.stringify({ TableNames: [] }));
      const message = code === 'UnrecognizedClientException' ? 'The security token included in the request is invalid.' : code;
      return this.#send(res, DYNAMODB_STATUS[code] ?? 400, type, JSON.stringify({ __type: `com.amazon.coral.service#${code}`, message }));
    }
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n';
    if (code === undefined) {
      return this.#send(
        res,
        200,
        'application/xml',
        `${xml}<ListAllMyBucketsResult><Owner><ID>local</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>`,
      );
    }
    const message = code === 'InvalidAccessKeyId' ? 'The AWS Access Key Id you provided does not exist in our records.' : code;
    const body = `${xml}<Error><Code>${code}</Code><Message>${message}</Message><AWSAccessKeyId>${request.accessKeyId}</AWSAccessKeyId><RequestId>LOCAL</RequestId><HostId>local</HostId></Error>`;
    this.#send(res, S3_STATUS[code] ?? 400, 'application/xml', body);
  }

  #send(res: ServerResponse, status: number, contentType: string, body: string): void {
    // The Date header by the global Date, as the SDK reads it: a test that fakes Date sees no clock skew.
    const headers = {
      'content-type': contentType,
      'x-amz-request-id': 'LOCAL',
      'content-length': Buffer.byteLength(body),
      date: new Date().toUTCString(),
    };
    res.writeHead(status, headers);
    res.end(body);
  }
}
