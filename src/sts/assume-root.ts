import type { AssumeRootCommandInput } from '@aws-sdk/client-sts';
import { STS_LIMITS } from './sts-limits.js';
import { parseIamArn } from './iam-arn.js';
import type { RequestValidator } from './sts-validation.js';
import type { AssumeRootRequest } from './sts-request.types.js';

const ROOT_TASK_POLICIES: readonly string[] = STS_LIMITS.rootTaskPolicies;

/** Checks an AssumeRoot request; returns the command input, read once. */
export function validateAssumeRootRequest(validate: RequestValidator, request: AssumeRootRequest): AssumeRootCommandInput {
  validate.request(request);
  const { targetPrincipal, taskPolicyArn, durationSeconds } = request;
  validate.text(targetPrincipal, 'targetPrincipal', STS_LIMITS.rootTargetPrincipal);
  validate.text(taskPolicyArn, 'taskPolicyArn', STS_LIMITS.roleArn);
  const policy = parseIamArn(taskPolicyArn, 'policy');
  validate.require(
    policy?.accountId === 'aws' && ROOT_TASK_POLICIES.some((name) => policy.resource === `policy/root-task/${name}`),
    'taskPolicyArn',
    `must be arn:<partition>:iam::aws:policy/root-task/<name>, <name> one of ${ROOT_TASK_POLICIES.join(', ')}`,
  );
  const { min, max } = STS_LIMITS.rootSessionDuration;
  if (durationSeconds !== undefined) validate.integer(durationSeconds, 'durationSeconds', min, max);
  return { TargetPrincipal: targetPrincipal, TaskPolicyArn: { arn: taskPolicyArn }, DurationSeconds: durationSeconds };
}
