/**
 * ExternalId rotation over the wire: the three steps (rotationTrustPolicy → validateAccess, then the app switches →
 * trustPolicy of the next value) walked against the local STS while callers keep asking for the tenant's credentials
 * (cache off: every call is an AssumeRole), and not one call fails. The control: the trust policy switched straight to
 * the next value locks the tenant out.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { ServerAwsStsModule, StsService, rotationTrustPolicy, trustPolicy, type TrustPolicyDocument } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import { validationRefusal } from '../support/async-helpers';

const PRINCIPAL = 'arn:aws:iam::111111111111:root';
const ROLE = 'arn:aws:iam::222222222222:role/VendorAccess';
const CURRENT = '0f4b1c3e9a7d4e21b6c85a90d3e7f412';
const NEXT = '7c2e9d14b8a3f6e05d1c4b7a92e8f036';
const WORKERS = 4;
/** AssumeRole calls the callers make between two steps (each step waits for them). */
const CALLS_PER_STEP = 20;

/** The local STS role settings a trust policy document stands for: its `StringEquals` on `sts:ExternalId`. */
function roleConditionOf(document: TrustPolicyDocument<string | string[]>) {
  const value = document.Statement[0].Condition.StringEquals['sts:ExternalId'];
  return {
    externalId: undefined,
    externalIdCondition: { operator: 'StringEquals' as const, values: Array.isArray(value) ? value : [value] },
  };
}

describe('ExternalId rotation over the wire', () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;
  let sts: StsService;

  beforeAll(async () => {
    server = await startLocalSts({ roles: [{ arn: ROLE, trustedPrincipals: [PRINCIPAL] }] });
    moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure(server.moduleConfig({ cache: false, clientConfig: { endpoint: server.endpoint, maxAttempts: 1 } })),
      ],
    }).compile();
    sts = moduleRef.get(StsService);
  });
  beforeEach(() => server.updateRole(ROLE, roleConditionOf(trustPolicy({ principalArn: PRINCIPAL, externalId: CURRENT }))));
  afterAll(async () => {
    await moduleRef.close();
    await server.close();
  });

  /** Callers asking for the tenant's credentials with the ExternalId the app holds, until stopped. */
  function startCallers(app: { externalId: string }) {
    const tally = { ok: 0, failed: 0, codes: new Set<string>() };
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          await sts.getCredentials({ roleArn: ROLE, externalId: app.externalId });
          tally.ok++;
        } catch (error) {
          tally.failed++;
          tally.codes.add((error as { code?: string }).code ?? String(error));
        }
      }
    };
    const done = Promise.all(Array.from({ length: WORKERS }, worker));
    /** Resolves once the callers made `CALLS_PER_STEP` more calls. */
    const moreCalls = async () => {
      const target = tally.ok + tally.failed + CALLS_PER_STEP;
      while (tally.ok + tally.failed < target) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    return { tally, moreCalls, stop: () => ((running = false), done) };
  }

  it('walks the three steps with callers running throughout: no call fails, and the old value is refused at the end', async () => {
    const app = { externalId: CURRENT };
    const callers = startCallers(app);
    await callers.moreCalls();

    // Step 1: the customer's role accepts both values.
    server.updateRole(
      ROLE,
      roleConditionOf(rotationTrustPolicy({ principalArn: PRINCIPAL, currentExternalId: CURRENT, nextExternalId: NEXT })),
    );
    await callers.moreCalls();

    // Step 2: the next value is checked, then the app switches to it.
    await expect(sts.validateAccess({ roleArn: ROLE, externalId: NEXT }, { requireExternalIdEnforced: true })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: true,
    });
    app.externalId = NEXT;
    await callers.moreCalls();

    // Step 3: the customer's role drops the old value.
    server.updateRole(ROLE, roleConditionOf(trustPolicy({ principalArn: PRINCIPAL, externalId: NEXT })));
    await callers.moreCalls();
    await callers.stop();

    expect(callers.tally).toMatchObject({ failed: 0 });
    expect(callers.tally.ok).toBeGreaterThanOrEqual(4 * CALLS_PER_STEP);
    await expect(sts.validateAccess({ roleArn: ROLE, externalId: CURRENT })).resolves.toMatchObject({
      ok: false,
      error: { code: 'AccessDenied' },
    });
  });

  it('the control: switching the trust policy straight to the next value locks out the callers still sending the old one', async () => {
    const app = { externalId: CURRENT };
    const callers = startCallers(app);
    await callers.moreCalls();
    server.updateRole(ROLE, roleConditionOf(trustPolicy({ principalArn: PRINCIPAL, externalId: NEXT })));
    await callers.moreCalls();
    await callers.stop();
    expect(callers.tally.failed).toBeGreaterThan(0);
    expect([...callers.tally.codes]).toEqual(['AccessDenied']);
  });

  it('step 1 is a trust policy naming both values, as trustPolicy shapes it', () => {
    const both = rotationTrustPolicy({ principalArn: PRINCIPAL, currentExternalId: CURRENT, nextExternalId: NEXT, allowSessionTags: true });
    const shape = trustPolicy({ principalArn: PRINCIPAL, externalId: CURRENT, allowSessionTags: true });
    expect(both).toEqual({
      ...shape,
      Statement: [{ ...shape.Statement[0], Condition: { StringEquals: { 'sts:ExternalId': [CURRENT, NEXT] } } }],
    });
  });

  it.each([
    ['the same value twice', { nextExternalId: CURRENT }, 'nextExternalId'],
    ['a next value outside STS rules', { nextExternalId: 'has space' }, 'nextExternalId'],
    ['a current value too short', { currentExternalId: 'x' }, 'currentExternalId'],
    ['an assumed-role session principal', { principalArn: 'arn:aws:sts::111111111111:assumed-role/R/s' }, 'principalArn'],
  ])('step 1 refuses %s, without showing a value', (_label, patch, field) => {
    const error = validationRefusal(() =>
      rotationTrustPolicy({ principalArn: PRINCIPAL, currentExternalId: CURRENT, nextExternalId: NEXT, ...patch }),
    );
    expect(error.field).toBe(field);
    expect(`${error.message} ${error.hint ?? ''}`).not.toMatch(new RegExp(`${CURRENT}|${NEXT}|has space`));
  });
});
