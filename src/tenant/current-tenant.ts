import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { AwsClientClass } from '../module/cached-credentials.js';
import { prepareAssumeRole, type RequestDefaults } from '../sts/role-request.js';
import { StsError } from '../errors/sts-error.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';
import type { ClsContext } from './cls-context.js';
import type { RequestTenantOptions } from './request-tenant-options.js';
import { currentRequestScope } from './request-scope.js';

/** What `CurrentTenant` asks of the service around it: its cached credentials and pooled clients. */
export interface TenantCredentialSource {
  getCredentials(request: AssumeRoleRequest): Promise<TemporaryCredentials>;
  clientFor<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client;
}

const noRequestTenant = (message: string) => new StsError(message, { code: 'NoRequestTenant', operation: 'AssumeRole' });

/**
 * The tenant of the running request, on `sts.current`: its credentials and clients without passing the tenant by
 * hand. The request's role comes from the `tenant.resolve` option, asked at the request's first use and kept for the
 * rest of it. Outside a request (a job, a timer), or when the request has no tenant, every method refuses with the
 * `StsError` code `NoRequestTenant`: pass the tenant explicitly there (`sts.getCredentials({ roleArn, externalId })`).
 */
export class CurrentTenant {
  readonly #source: TenantCredentialSource;
  readonly #options: RequestTenantOptions | undefined;
  readonly #defaults: RequestDefaults;
  readonly #cls: () => ClsContext | undefined;

  /**
   * @param cls The app's nestjs-cls context, once the module has looked for it (at module init).
   */
  // Private fields, so inspecting the service never shows the config or the resolver.
  constructor(
    source: TenantCredentialSource,
    options: RequestTenantOptions | undefined,
    defaults: RequestDefaults,
    cls: () => ClsContext | undefined,
  ) {
    this.#source = source;
    this.#options = options;
    this.#defaults = defaults;
    this.#cls = cls;
  }

  /** The role of the request's tenant as `tenant.resolve` answered it, validated: to pass on explicitly. */
  role(): Promise<AssumeRoleRequest> {
    if (this.#options === undefined) {
      return Promise.reject(noRequestTenant('sts.current needs the tenant option: ServerAwsStsModule.configure({ tenant: { resolve } })'));
    }
    const scope = currentRequestScope(this.#cls());
    if (scope === undefined) return Promise.reject(noRequestTenant('sts.current was used outside a request'));
    const kept = scope.roleOf(this);
    if (kept !== undefined) return kept;
    const role = this.#resolve(this.#options, scope.request);
    scope.keep(this, role);
    return role;
  }

  /** Cached credentials of the request's tenant: `sts.getCredentials(role)`. */
  async getCredentials(): Promise<TemporaryCredentials> {
    return this.#source.getCredentials(await this.role());
  }

  /**
   * A credential provider that follows the request: each time the SDK asks it, it answers with the cached
   * credentials of the tenant of the request it is asked in. One client built on it serves every tenant, and may be
   * kept in a singleton: `new S3Client({ credentials: sts.current.credentialProvider() })`. Its sends outside a
   * request reject with `NoRequestTenant`.
   */
  credentialProvider(): AwsCredentialIdentityProvider {
    return Object.assign(() => this.getCredentials(), { memoized: true as const });
  }

  /**
   * The pooled client of the request's tenant: `sts.clientFor(ClientClass, role, clientConfig)` (see there), once
   * the role is known. Ask per request; the client is the tenant's, so do not keep it past the request.
   */
  async clientFor<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Promise<Client> {
    return this.#source.clientFor(ClientClass, await this.role(), clientConfig);
  }

  async #resolve(options: RequestTenantOptions, request: unknown): Promise<AssumeRoleRequest> {
    const role = await options.resolve(request);
    if (role === undefined || role === null) throw noRequestTenant('tenant.resolve found no tenant for this request');
    // A copy, checked once: a later change to the resolver's object (a shared cache entry) cannot reach this request.
    const copy = Object.freeze({ ...role });
    prepareAssumeRole(copy, this.#defaults);
    return copy;
  }
}
