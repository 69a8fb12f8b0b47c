import { itemsOf } from './list-items.js';
import { parseIamArn, type IamArn } from './iam-arn.js';
import { STS_LIMITS } from './sts-limits.js';
import { StsValidationError, type StsOperation } from '../errors/sts-error.js';
import type { GetWebIdentityTokenCommandInput } from '@aws-sdk/client-sts';
import type { GetWebIdentityTokenRequest, MfaInput, SessionPolicy } from './sts-request.types.js';

/** An AWS region name such as `us-east-1`. */
const REGION_NAME = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

/** Length in Unicode code points; `.length` counts UTF-16 units, so an emoji would count twice. */
function codePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) count++; // the string iterator walks code points
  return count;
}

function isJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** Length and character rules of a text input. */
interface TextLimits {
  min?: number;
  max: number;
  pattern?: RegExp;
  rule?: string;
}

/** Collects the checks of one request and throws at the first broken rule. */
export class RequestValidator {
  /** @param fieldPrefix prepended to every field named in an error, e.g. `via.` for a role-chaining hop. */
  constructor(
    readonly operation: StsOperation,
    private readonly fieldPrefix = '',
  ) {}

  /** Throws `StsValidationError` for `field` unless `ok`. */
  require(ok: boolean, field: string, rule: string): void {
    if (!ok) throw new StsValidationError(this.operation, `${this.fieldPrefix}${field}`, rule);
  }

  /** The request itself must be an object (a JavaScript caller may pass anything). */
  request(request: unknown): void {
    this.require(typeof request === 'object' && request !== null, 'request', 'must be an object');
  }

  /**
   * A string of `min`–`max` characters (Unicode code points, as STS counts them) that matches `pattern`, if
   * given; `rule` words the pattern for people when its source would not. The value is never echoed.
   */
  text(value: unknown, field: string, limits: TextLimits, label = 'characters'): void {
    const min = limits.min ?? 1;
    const length = typeof value === 'string' ? codePoints(value) : -1;
    const fits = length >= min && length <= limits.max;
    const matches = fits && (!limits.pattern || limits.pattern.test(value as string));
    const rule = limits.rule ? ` ${limits.rule}` : limits.pattern ? ` matching ${limits.pattern.source}` : '';
    this.require(fits && matches, field, `must be ${min}–${limits.max} ${label}${rule}`);
  }

  optionalText(value: unknown, field: string, limits: TextLimits): void {
    if (value !== undefined) this.text(value, field, limits);
  }

  /**
   * An integer from `min` to `max`. The rule names `maxName` (default: the number) as the upper bound, then `unit`
   * (default `seconds`; empty for none), then `why`, which explains a bound tighter than STS's.
   */
  integer(value: unknown, field: string, min: number, max: number, { unit = 'seconds', why = '', maxName = String(max) } = {}): void {
    const range = `between ${min} and ${maxName}${unit ? ` ${unit}` : ''}`;
    this.require(
      Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
      field,
      `must be an integer ${range}${why}`,
    );
  }

  /** An AWS region name such as `us-east-1` (the config's `AWS_REGION`, a quick-create link's region). */
  region(value: unknown, field: string): void {
    this.require(typeof value === 'string' && REGION_NAME.test(value), field, 'must be a region name such as us-east-1');
  }

  roleArn(value: unknown, field = 'roleArn'): IamArn {
    this.text(value, field, STS_LIMITS.roleArn);
    const arn = parseIamArn(value as string, 'role');
    this.require(arn !== undefined, field, 'must be an IAM role ARN: arn:<partition>:iam::<12-digit account id>:role/<name>');
    return arn as IamArn;
  }

  samlProviderArn(value: unknown, field = 'principalArn'): void {
    this.text(value, field, STS_LIMITS.roleArn);
    this.require(
      parseIamArn(value as string, 'saml-provider') !== undefined,
      field,
      'must be an IAM SAML provider ARN: arn:<partition>:iam::<12-digit account id>:saml-provider/<name>',
    );
  }

  sessionName(value: unknown, field = 'sessionName'): void {
    this.optionalText(value, field, STS_LIMITS.roleSessionName);
  }

  externalId(value: unknown, field = 'externalId'): void {
    this.optionalText(value, field, STS_LIMITS.externalId);
  }

  sourceIdentity(value: unknown): void {
    if (value === undefined) return;
    this.text(value, 'sourceIdentity', STS_LIMITS.sourceIdentity);
    this.require(!(value as string).toLowerCase().startsWith('aws:'), 'sourceIdentity', 'must not start with "aws:"');
  }

  /** Checks the MFA device and the kind of code; returns a copy of both. */
  mfa(mfa: MfaInput | undefined): MfaInput | undefined {
    if (mfa === undefined) return undefined;
    this.require(typeof mfa === 'object' && mfa !== null, 'mfa', 'must be { serialNumber, tokenCode }');
    const { serialNumber, tokenCode } = mfa;
    this.text(serialNumber, 'mfa.serialNumber', STS_LIMITS.mfaSerialNumber);
    this.require(
      typeof tokenCode === 'string' || typeof tokenCode === 'function',
      'mfa.tokenCode',
      'must be a 6-digit code or a function returning one',
    );
    return { serialNumber, tokenCode };
  }

  mfaTokenCode(code: unknown): void {
    this.require(typeof code === 'string' && STS_LIMITS.mfaTokenCode.pattern.test(code), 'mfa.tokenCode', 'must be exactly 6 digits');
  }

  /** Serialises and checks a session policy; returns the JSON text to send (the one value the cache key uses). */
  policy(policy: SessionPolicy | undefined): string | undefined {
    if (policy === undefined) return undefined;
    let text: unknown = policy;
    if (typeof policy !== 'string') {
      try {
        text = JSON.stringify(policy);
      } catch {
        text = undefined; // BigInt, cycles: not a policy document
      }
    }
    this.text(text, 'policy', { max: STS_LIMITS.policy.max, pattern: STS_LIMITS.policy.pattern });
    // An object serialises to an object document exactly when its text starts with `{` (a `toJSON` may return
    // anything); only text the user wrote must be parsed to know.
    const isObjectDocument = typeof policy === 'string' ? isJsonObject(text as string) : (text as string).startsWith('{');
    this.require(isObjectDocument, 'policy', 'must be a JSON policy document (an object)');
    return text as string;
  }

  /** Checks trusted identity propagation contexts; returns a frozen copy in the command's shape. */
  providedContexts(contexts: unknown): ReadonlyArray<{ readonly ProviderArn: string; readonly ContextAssertion: string }> | undefined {
    if (contexts === undefined) return undefined;
    const { max } = STS_LIMITS.providedContexts;
    const items = Array.isArray(contexts) ? itemsOf(contexts, max) : [];
    this.require(
      Array.isArray(contexts) && items.length <= max,
      'providedContexts',
      `must be an array of at most ${max} { providerArn, contextAssertion }`,
    );
    return Object.freeze(
      items.map((context, index) => {
        this.require(
          typeof context === 'object' && context !== null,
          `providedContexts[${index}]`,
          'must be { providerArn, contextAssertion }',
        );
        const { providerArn, contextAssertion } = context as Record<string, unknown>;
        this.text(providerArn, `providedContexts[${index}].providerArn`, STS_LIMITS.contextProviderArn);
        this.text(contextAssertion, `providedContexts[${index}].contextAssertion`, STS_LIMITS.contextAssertion);
        return Object.freeze({ ProviderArn: providerArn as string, ContextAssertion: contextAssertion as string });
      }),
    );
  }

  /** Checks managed policy ARNs; returns a copy of them. */
  policyArns(arns: unknown): string[] | undefined {
    if (arns === undefined) return undefined;
    const copy = Array.isArray(arns) ? itemsOf(arns, STS_LIMITS.policyArns.max) : [];
    this.require(
      Array.isArray(arns) && copy.length <= STS_LIMITS.policyArns.max,
      'policyArns',
      `must be an array of at most ${STS_LIMITS.policyArns.max} managed policy ARNs`,
    );
    copy.forEach((arn, index) => {
      this.text(arn, `policyArns[${index}]`, STS_LIMITS.roleArn);
      this.require(
        parseIamArn(arn as string, 'policy') !== undefined,
        `policyArns[${index}]`,
        'must be an IAM policy ARN: arn:<partition>:iam::<account id or aws>:policy/<name>',
      );
    });
    return copy as string[];
  }

  /** Checks session tags and transitive tag keys; returns the tags as `[key, value]` pairs, read once. */
  tags(tags: unknown, transitiveTagKeys: unknown): Array<[string, string]> | undefined {
    let entries: Array<[string, unknown]> | undefined;
    if (tags !== undefined) {
      this.require(typeof tags === 'object' && tags !== null && !Array.isArray(tags), 'tags', 'must be an object of tag key → value');
      entries = Object.entries(tags as Record<string, unknown>);
      const { max, keyMax, valueMax, pattern } = STS_LIMITS.tags;
      this.require(entries.length <= max, 'tags', `must hold at most ${max} tags`);
      const lowerKeys = new Set<string>();
      for (const [key, value] of entries) {
        this.text(key, 'tags', { min: 1, max: keyMax, pattern }, 'characters per key,');
        this.require(!key.toLowerCase().startsWith('aws:'), 'tags', 'keys must not start with "aws:"');
        this.require(!lowerKeys.has(key.toLowerCase()), 'tags', 'keys must differ by more than letter case');
        lowerKeys.add(key.toLowerCase());
        this.text(value, 'tags', { min: 0, max: valueMax, pattern }, 'characters per value,');
      }
    }
    if (transitiveTagKeys !== undefined) {
      const { max } = STS_LIMITS.transitiveTagKeys;
      this.require(
        Array.isArray(transitiveTagKeys) && transitiveTagKeys.length <= max, // a copy read by itemsOf: at most max + 1
        'transitiveTagKeys',
        `must be an array of at most ${max} keys`,
      );
      const tagKeys = new Set((entries ?? []).map(([key]) => key));
      this.require(
        (transitiveTagKeys as unknown[]).every((key) => typeof key === 'string' && tagKeys.has(key)),
        'transitiveTagKeys',
        'must only name keys present in tags',
      );
    }
    return entries as Array<[string, string]> | undefined;
  }
}

/** Checks a GetWebIdentityToken request; returns the command input (defaults filled in), read once. */
export function validateWebIdentityTokenRequest(
  validate: RequestValidator,
  request: GetWebIdentityTokenRequest,
): GetWebIdentityTokenCommandInput {
  validate.request(request);
  const { audience, signingAlgorithm = 'RS256', durationSeconds, scope, subjectMode } = request;
  const audiences: unknown[] = Array.isArray(audience) ? [...audience] : [audience];
  const audienceLimits = STS_LIMITS.webIdentityTokenAudience;
  validate.require(
    audiences.length >= 1 && audiences.length <= audienceLimits.maxItems,
    'audience',
    `must hold 1–${audienceLimits.maxItems} audiences`,
  );
  audiences.forEach((value, index) => validate.text(value, `audience[${index}]`, audienceLimits));
  const algorithms: readonly string[] = STS_LIMITS.webIdentityTokenSigningAlgorithms;
  validate.require(algorithms.includes(signingAlgorithm), 'signingAlgorithm', `must be one of ${algorithms.join(', ')}`);
  const { min, max } = STS_LIMITS.webIdentityTokenDuration;
  if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
  validate.require(
    subjectMode === undefined || subjectMode === 'AWSIdentity' || subjectMode === 'OriginIdentity',
    'subjectMode',
    'must be AWSIdentity or OriginIdentity',
  );
  if (scope !== undefined) {
    validate.text(scope, 'scope', STS_LIMITS.webIdentityTokenScope);
    validate.require(
      subjectMode === 'OriginIdentity' && audiences.length === 1,
      'scope',
      "is only allowed with subjectMode 'OriginIdentity' and exactly one audience",
    );
    const values = (scope as string).split(' ');
    validate.require(new Set(values).size === values.length, 'scope', 'must not repeat a value');
  }
  const tags = validate.tags(request.tags, undefined);
  return {
    Audience: audiences as string[],
    SigningAlgorithm: signingAlgorithm,
    DurationSeconds: durationSeconds,
    Scope: scope,
    SubjectMode: subjectMode,
    Tags: tags?.map(([Key, Value]) => ({ Key, Value })),
  };
}
