import { PLATFORM, TENANTS } from '../demo/local-aws';
import { runDemo } from '../demo/main';

describe('npm run demo', () => {
  it('plays the main job against the local STS endpoint and prints no secret', async () => {
    const lines: string[] = [];
    const summary = await runDemo((line) => lines.push(line));
    expect(summary).toMatchObject({
      verified: true,
      wrongExternalIdCode: 'AccessDenied',
      reusedFromCache: true,
      chainedSessionMinutes: 60,
      chainedArn: expect.stringMatching(/^arn:aws:sts::\d{12}:assumed-role\/Workload\//),
    });
    expect(summary.fanOut.map((result) => [result.ok, result.code])).toEqual([[true, undefined], [true, undefined], [true, undefined], [true, undefined], [false, 'AccessDenied']]);
    expect(summary.cache.hits).toBeGreaterThan(0);
    const report = lines.join('\n');
    expect(report).toContain('hint: The role');
    expect(report).not.toContain(PLATFORM.secretAccessKey);
    for (const tenant of TENANTS) expect(report).not.toContain(tenant.externalId);
  });
});
