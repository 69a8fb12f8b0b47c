import type { AssumeRoleRequest } from '../sts/sts-request.types.js';

/** How a request maps to its tenant's role: the `tenant` option of `ServerAwsStsConfig`, behind `sts.current`. */
export interface RequestTenantOptions {
  /**
   * The role of the request's tenant, `{ roleArn, externalId, ... }` (any `AssumeRoleRequest`), or `undefined` when
   * the request has none (then `sts.current` refuses with `NoRequestTenant`). May be async (a database lookup).
   *
   * Called lazily, at the request's first use of `sts.current`, and once per request: its answer is validated
   * (`StsValidationError`, naming the field) and kept for the rest of the request. A failure is not kept: the next use
   * asks again. It runs inside the request, after the guards when first used in a handler, so it can read what
   * they set (`request.user`).
   *
   * `request` is the HTTP request: the one `StsTenantMiddleware` was applied to (Express `Request`; under Fastify,
   * Node's `IncomingMessage`), or the one nestjs-cls saved (`CLS_REQ`, or the HTTP request of its `ExecutionContext`).
   * `undefined` in a nestjs-cls context that has no request (`cls.run()` in a job): read your CLS store instead.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an app types its own request (Express, Fastify…)
  resolve(request: any): AssumeRoleRequest | undefined | Promise<AssumeRoleRequest | undefined>;
}
