/**
 * A model-based property test of the whole cached path (index → lookup → cache → STS), over a mocked STSClient:
 * random runs of getCredentials, invalidate (also while the request's fetch runs), invalidateIfCurrent (right after
 * the credentials were served: it must find them), invalidateWhere, clear, failing STS answers and time passing,
 * with keep-warm or without, on a cache so small that entries are evicted and the index of prepared requests is
 * dropped often.
 * After every step:
 *  1. the credentials a request is answered with were issued by STS for exactly what that request sends, computed
 *     cold (`prepareAssumeRole`): the role, the ExternalId (its own or EXTERNAL_ID), the duration, the session name
 *     and MFA device, through plain requests, requests that are not plain, role chaining and MFA;
 *  2. credentials dropped by an invalidation (or a clear) are never served again under their request's key;
 *  3. nothing served is expired.
 */
import fc from 'fast-check';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AssumeRoleRequest, TemporaryCredentials } from '../../src';
import { hashKey } from '../../src/cache/cache-key';
import { prepareAssumeRole } from '../../src/sts/role-request';
import { OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from '../support/fixtures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const sts = mockClient(STSClient);
const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const settle = () => new Promise((resolve) => setImmediate(resolve));
const CONFIG_EXTERNAL_ID = 'config-external-id';
const defaults = { defaultExternalId: () => CONFIG_EXTERNAL_ID, defaultSessionDuration: 3600, maxSessionDuration: 43_200 };
const MFA_DEVICE = 'arn:aws:iam::111111111111:mfa/operator';

/** Requests that send the same, nearly the same, or something else: each (ExternalId, duration) given or not. */
const REQUESTS: AssumeRoleRequest[] = [];
for (const roleArn of [ROLE_ARN, OTHER_ROLE_ARN])
  for (const externalId of [undefined, CONFIG_EXTERNAL_ID, 'tenant-1', 'tenant-2'])
    for (const durationSeconds of [undefined, 3600, 900]) {
      REQUESTS.push({ roleArn, externalId, durationSeconds });
      REQUESTS.push({ roleArn, externalId, durationSeconds, sessionName: 'named-session' });
    }
let mfaCode = 100_000;
const nextCode = () => String(++mfaCode);
REQUESTS.push(
  { roleArn: ROLE_ARN, via: { roleArn: OTHER_ROLE_ARN, externalId: 'tenant-1' } },
  { roleArn: ROLE_ARN, externalId: 'tenant-1', via: { roleArn: OTHER_ROLE_ARN } },
  { roleArn: ROLE_ARN, externalId: 'tenant-1', mfa: { serialNumber: MFA_DEVICE, tokenCode: nextCode } },
  { roleArn: OTHER_ROLE_ARN, via: { roleArn: ROLE_ARN, externalId: 'tenant-2', mfa: { serialNumber: MFA_DEVICE, tokenCode: nextCode } } },
);

/** What an AssumeRole call sends that tells one tenant's credentials from another's (the session name when given). */
interface Sent {
  RoleArn: string;
  ExternalId?: string;
  DurationSeconds?: number;
  RoleSessionName?: string;
  SerialNumber?: string;
}
const sentText = (input: Sent, sessionName: string | undefined) =>
  JSON.stringify([input.RoleArn, input.ExternalId ?? null, input.DurationSeconds, sessionName ?? null, input.SerialNumber ?? null]);
/** What the request sends, computed cold. */
const expectedSend = (request: AssumeRoleRequest) => {
  const { input } = prepareAssumeRole(request, defaults);
  return sentText(input, input.RoleSessionName);
};
/** A key of the request's meaning, computed cold (any base: only equality matters here). */
const coldKey = (request: AssumeRoleRequest) => hashKey('model', prepareAssumeRole(request, defaults));

type Step =
  | { op: 'get'; request: number }
  | { op: 'invalidate'; request: number }
  | { op: 'invalidateWhileFetching'; request: number }
  | { op: 'invalidateIfCurrent'; request: number }
  | { op: 'invalidateWhere'; role: number }
  | { op: 'clear' }
  | { op: 'fail'; times: number }
  | { op: 'wait'; ms: number };
const requestIndex = fc.nat(REQUESTS.length - 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), request: requestIndex }) },
  fc.record({ op: fc.constant('invalidate' as const), request: requestIndex }),
  fc.record({ op: fc.constant('invalidateWhileFetching' as const), request: requestIndex }),
  fc.record({ op: fc.constant('invalidateIfCurrent' as const), request: requestIndex }),
  fc.record({ op: fc.constant('invalidateWhere' as const), role: fc.nat(1) }),
  fc.record({ op: fc.constant('clear' as const) }),
  fc.record({ op: fc.constant('fail' as const), times: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40 * 60_000 }) }),
);

beforeEach(() => {
  sts.reset();
  jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick'] });
});
afterEach(() => jest.useRealTimers());

it('answers each request with credentials issued for what it sends, never after their invalidation, never expired', async () => {
  const seen = { served: 0, hits: 0, droppedChecks: 0, invalidatedIfCurrent: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 20, maxLength: 60 }),
      fc.integer({ min: 1, max: 4 }),
      fc.boolean(),
      async (steps, maxEntries, keepWarm) => {
        sts.reset();
        jest.setSystemTime(T0);
        const issuedFor = new Map<string, string>();
        let issued = 0;
        let failures = 0;
        sts.on(AssumeRoleCommand).callsFake((input: Sent) => {
          if (failures > 0) {
            failures--;
            return Promise.reject(serviceError('Throttling', 'Rate exceeded'));
          }
          const label = `M${++issued}`;
          // A session name the request gave is what tells it apart; a generated one is new at each call.
          const given = input.RoleSessionName === 'named-session' ? input.RoleSessionName : undefined;
          issuedFor.set(`ASIAEXAMPLE${label}`, sentText(input, given));
          return Promise.resolve(assumeRoleOutput(input.RoleArn, input.DurationSeconds, label));
        });
        const service = createService({ EXTERNAL_ID: CONFIG_EXTERNAL_ID, cache: { maxEntries, keepWarm } });
        /** Per key of meaning: the access key ids an invalidation dropped, never to be served again under it. */
        const dropped = new Map<string, Set<string>>();
        const lastServed = new Map<string, TemporaryCredentials>();
        const drop = (key: string, credentials: TemporaryCredentials | undefined) => {
          if (credentials === undefined) return;
          if (!dropped.has(key)) dropped.set(key, new Set());
          dropped.get(key)!.add(credentials.accessKeyId);
        };
        for (const current of steps) {
          if (current.op === 'get') {
            const request = REQUESTS[current.request];
            const key = coldKey(request);
            const credentials = await service.getCredentials({ ...request }).catch((error: { code?: string }) => {
              expect(error.code).toBe('Throttling');
              return undefined;
            });
            if (credentials !== undefined) {
              expect([request, issuedFor.get(credentials.accessKeyId)]).toEqual([request, expectedSend(request)]);
              if (dropped.has(key)) seen.droppedChecks++;
              expect(dropped.get(key)?.has(credentials.accessKeyId) ?? false).toBe(false);
              expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now());
              lastServed.set(key, credentials);
              seen.served++;
            }
          } else if (current.op === 'invalidate') {
            const request = REQUESTS[current.request];
            service.cache.invalidate({ ...request });
            drop(coldKey(request), lastServed.get(coldKey(request)));
          } else if (current.op === 'invalidateWhileFetching') {
            // The answer of a fetch running when its request is invalidated reaches its callers, but is never held.
            const request = REQUESTS[current.request];
            const answer = service.getCredentials({ ...request }).catch(() => undefined);
            service.cache.invalidate({ ...request });
            drop(coldKey(request), await answer);
          } else if (current.op === 'invalidateIfCurrent') {
            // As a service rejecting them would: right after they were served, when no fetch can replace them meanwhile.
            const request = REQUESTS[current.request];
            const credentials = await service.getCredentials({ ...request }).catch(() => undefined);
            if (credentials !== undefined && service.cache.stats().inflight === 0) {
              expect(service.cache.invalidateIfCurrent(credentials)).toBe(true);
              drop(coldKey(request), credentials);
              seen.invalidatedIfCurrent++;
            }
          } else if (current.op === 'invalidateWhere') {
            const role = [ROLE_ARN, OTHER_ROLE_ARN][current.role];
            await service.cache.invalidateWhere((entry) => entry.roleArn === role);
            for (const request of REQUESTS.filter(({ roleArn }) => roleArn === role))
              drop(coldKey(request), lastServed.get(coldKey(request)));
          } else if (current.op === 'clear') {
            service.cache.clear();
            for (const [key, credentials] of lastServed) drop(key, credentials);
          } else if (current.op === 'fail') {
            failures = current.times;
          } else {
            jest.setSystemTime(Date.now() + current.ms);
          }
          await settle(); // background refreshes and keep-warm's land between steps
        }
        seen.hits += service.cache.stats().hits;
        await service.onModuleDestroy();
      },
    ),
    { numRuns: 250, seed: SEED },
  );
  // Not vacuous: requests were served, from the cache too, and after invalidations of their key.
  expect(seen.served).toBeGreaterThan(1_500);
  expect(seen.hits).toBeGreaterThan(50);
  expect(seen.droppedChecks).toBeGreaterThan(150);
  expect(seen.invalidatedIfCurrent).toBeGreaterThan(100);
}, 120_000);
