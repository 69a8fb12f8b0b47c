import { generateExternalId } from './onboarding/external-id.js';
import { STS_LIMITS } from './sts-limits.js';
import { StsError, toStsError } from './sts-error.js';
import type { AccessCheckOptions, AccessCheckResult, AccountAssumeResult, AssumeRoleRequest } from './sts-request.types.js';
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

  async validateAccess(request: AssumeRoleRequest, options: AccessCheckOptions = {}): Promise<AccessCheckResult> {
    try {
      // Prepared from one copy of the request, so the role checked is the role assumed, and probed.
      const copy = { ...request, durationSeconds: STS_LIMITS.roleDuration.min };
      const prepared = prepareAssumeRole(copy, this.defaults);
      const credentials = await this.operations.assumeRole(prepared);
      const identity = await this.operations.callerIdentityOf(credentials, prepared.input.RoleArn);
      const accountId = prepared.accountId;
      if (identity.Account !== accountId) {
        const error = new StsError(`The role ${prepared.input.RoleArn} resolved to account ${identity.Account}, not ${accountId}`, { code: 'AccountMismatch', operation: 'GetCallerIdentity' });
        return { ok: false, error };
      }
      const externalIdEnforced = prepared.input.ExternalId === undefined ? false : copy.mfa !== undefined ? undefined : await this.refusesWrongExternalId(copy);
      if (externalIdEnforced !== true && options.requireExternalIdEnforced) {
        const code = externalIdEnforced === undefined ? 'ExternalIdNotChecked' : 'ExternalIdNotEnforced';
        const error = new StsError(`The role ${prepared.input.RoleArn} was not shown to require its ExternalId`, { code, operation: 'AssumeRole' });
        return { ok: false, error };
      }
      return { ok: true, accountId, arn: identity.Arn ?? '', expiration: credentials.expiration, externalIdEnforced };
    } catch (error) {
      return { ok: false, error: toStsError(error, 'AssumeRole') };
    }
  }

  /**
   * Assumes the role once more with a random ExternalId of the right form, uncached: `AccessDenied` means the trust
   * policy demands the customer's own value. A wrong value, rather than none, also unmasks a condition that only asks
   * for some ExternalId (`StringLike *`, `Null`), and passes a rule on this side that denies AssumeRole without one.
   * Any other failure says nothing either way and is thrown.
   */
  private async refusesWrongExternalId(request: AssumeRoleRequest): Promise<boolean> {
    const probe = prepareAssumeRole({ ...request, externalId: generateExternalId() }, this.defaults);
    try {
      await this.operations.assumeRole(probe, { probe: true });
      return false;
    } catch (error) {
      if (toStsError(error, 'AssumeRole').code === 'AccessDenied') return true;
      throw error;
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
