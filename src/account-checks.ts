import { STS_LIMITS } from './sts-limits.js';
import { StsError, toStsError } from './sts-error.js';
import type { AccessCheckResult, AccountAssumeResult, AssumeRoleRequest } from './sts-request.types.js';
import type { StsOperations } from './sts-operations.js';
import { prepareAssumeRole, type RequestDefaults } from './role-request.js';
import { RequestValidator, parseIamArn } from './sts-validation.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Options of `StsService.assumeRoleInAccounts`. */
export interface FanOutOptions {
  /** Requests in flight at once. Default: 10. */
  concurrency?: number;
}

/** Maps `items` through `work` with at most `concurrency` calls in flight; results keep the order of the items. */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Checks on customer accounts: can a role be assumed, and credentials for many accounts at once. */
export class AccountChecks {
  constructor(
    private readonly defaults: RequestDefaults,
    private readonly operations: StsOperations,
    private readonly cachedCredentials: (request: AssumeRoleRequest) => Promise<TemporaryCredentials>,
  ) {}

  async validateAccess(request: AssumeRoleRequest): Promise<AccessCheckResult> {
    try {
      // Prepared from one copy of the request, so the role checked is the role assumed.
      const prepared = prepareAssumeRole({ ...request, durationSeconds: STS_LIMITS.roleDuration.min }, this.defaults);
      const credentials = await this.operations.assumeRole(prepared);
      const identity = await this.operations.callerIdentityOf(credentials, prepared.input.RoleArn);
      const accountId = prepared.accountId;
      if (identity.Account !== accountId) {
        const error = new StsError(`The role ${prepared.input.RoleArn} resolved to account ${identity.Account}, not ${accountId}`, { code: 'AccountMismatch', operation: 'GetCallerIdentity' });
        return { ok: false, error };
      }
      return { ok: true, accountId, arn: identity.Arn ?? '', expiration: credentials.expiration };
    } catch (error) {
      return { ok: false, error: toStsError(error, 'AssumeRole') };
    }
  }

  async assumeRoleInAccounts(requests: AssumeRoleRequest[], options: FanOutOptions = {}): Promise<AccountAssumeResult[]> {
    const concurrency = options.concurrency ?? 10;
    new RequestValidator('AssumeRole').require(Number.isInteger(concurrency) && concurrency >= 1, 'concurrency', 'must be an integer of at least 1');
    return mapWithConcurrency(requests, concurrency, async (request): Promise<AccountAssumeResult> => {
      const accountId = parseIamArn(request?.roleArn, 'role')?.accountId ?? '';
      try {
        return { ok: true, accountId, credentials: await this.cachedCredentials(request) };
      } catch (error) {
        return { ok: false, accountId, error: toStsError(error, 'AssumeRole') };
      }
    });
  }
}
