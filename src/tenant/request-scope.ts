import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClsContext } from './cls-context.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';

/**
 * What one request keeps for `sts.current`: the request, and each service's resolved tenant role. The roles are in a
 * private field: a log of the whole nestjs-cls store (or `inspect` of it) never shows an ExternalId.
 */
export class RequestScope {
  /** Per resolver (one per `StsService`): the role being resolved or resolved, memoized for the request. */
  readonly #roles = new Map<object, Promise<AssumeRoleRequest>>();

  constructor(readonly request: unknown) {}

  /** The role `resolver` resolved (or is resolving) in this request. */
  roleOf(resolver: object): Promise<AssumeRoleRequest> | undefined {
    return this.#roles.get(resolver);
  }

  /** Keeps `role` for the rest of the request; forgotten if it fails, so the next use asks again. */
  keep(resolver: object, role: Promise<AssumeRoleRequest>): void {
    this.#roles.set(resolver, role);
    role.catch(() => this.#roles.get(resolver) === role && this.#roles.delete(resolver));
  }

  /** Nothing of the scope in JSON (a logged CLS store). */
  toJSON(): object {
    return {};
  }
}

/** The library's own request context, entered by `StsTenantMiddleware`. Separate from the SDK requests' store. */
const requestScopes = new AsyncLocalStorage<RequestScope>();

/** The key of the library's scope in a nestjs-cls store. */
const CLS_SCOPE_KEY = Symbol('nestjs-aws-sts.requestScope');

/** Runs `next` (the rest of the request) in a new scope for `request`. */
export function runInRequestScope<T>(request: unknown, next: () => T): T {
  return requestScopes.run(new RequestScope(request), next);
}

/**
 * The scope of the running request: the library's own when `StsTenantMiddleware` bound one, otherwise, when the app
 * set up nestjs-cls, one kept in its active context (made at first use); `undefined` outside any request.
 */
export function currentRequestScope(cls: ClsContext | undefined): RequestScope | undefined {
  const own = requestScopes.getStore();
  if (own !== undefined || cls === undefined || !cls.service.isActive()) return own;
  const kept = cls.service.get(CLS_SCOPE_KEY) as RequestScope | undefined;
  if (kept !== undefined) return kept;
  const scope = new RequestScope(cls.request());
  cls.service.set(CLS_SCOPE_KEY, scope);
  return scope;
}
