import fc from 'fast-check';
import { accountOfIamArn, parseIamArn } from '../../../src/sts/iam-arn';

describe('accountOfIamArn', () => {
  it('reads the account id parseIamArn reads, from every role ARN it accepts (partitions, paths with colons)', () => {
    const segment = fc.stringMatching(/^[\w+=,.@:-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'aws-iso-b'),
        fc.stringMatching(/^\d{12}$/),
        fc.array(segment, { maxLength: 3 }),
        fc.stringMatching(/^[\w+=,.@-]{1,64}$/),
        (partition, account, path, name) => {
          const arn = `arn:${partition}:iam::${account}:role/${path.map((part) => `${part}/`).join('')}${name}`;
          const parsed = parseIamArn(arn, 'role');
          expect(parsed?.accountId).toBe(account);
          expect(accountOfIamArn(arn)).toBe(parsed!.accountId);
        },
      ),
      { seed: 20261203, numRuns: 2_000 },
    );
  });
});
