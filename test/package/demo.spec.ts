import { PLATFORM, TENANTS } from '../../demo/local-aws';
import { runDemo } from '../../demo/main';

describe('npm run demo', () => {
  it('plays the whole workflow against the local STS endpoint, quietly, and prints no secret', async () => {
    const lines: string[] = [];
    // Nest's logger writes to the process's stdout and stderr, not to the report: watch both.
    const printed: string[] = [];
    const keep = (chunk: unknown) => (printed.push(String(chunk)), true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(keep);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(keep);
    let summary: Awaited<ReturnType<typeof runDemo>>;
    try {
      summary = await runDemo((line) => lines.push(line));
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(summary.onboarding).toEqual([
      { name: 'Stark', ok: true, externalIdEnforced: true },
      { name: 'Pied Piper', ok: false, code: 'ExternalIdNotEnforced' },
    ]);
    expect(summary).toMatchObject({
      verified: true,
      wrongExternalIdCode: 'AccessDenied',
      reusedFromCache: true,
      chainedSessionMinutes: 60,
      chainedArn: expect.stringMatching(/^arn:aws:sts::\d{12}:assumed-role\/Workload\//),
      requestsServed: 6,
      clients: expect.objectContaining({ created: 2, hits: 4, size: 2 }),
      // A real S3 client: each request reached the local S3 signed with its own tenant's cached key, and serving
      // them cost one AssumeRole (Stark's first use; Acme's keys were already cached).
      signedWithTenantKeys: true,
      stsCallsWhileServing: 1,
    });
    // What the last lines tell a newcomer is true: after onboarding, every AssumeRole is a cache miss, and every
    // STS call is an sts-call event.
    expect(summary.cacheAssumeRoles).toBe(summary.cache.misses);
    expect(summary.stsCallEvents).toBe(summary.stsCalls);
    // The stored customers, Stark (onboarded above) included; Hooli never set up its trust policy.
    expect(summary.fanOut.map((result) => [result.tenant, result.ok, result.code])).toEqual([
      ['Acme', true, undefined],
      ['Globex', true, undefined],
      ['Initech', true, undefined],
      ['Umbrella', true, undefined],
      ['Hooli', false, 'AccessDenied'],
      ['Stark', true, undefined],
    ]);
    expect(summary.cache.hits).toBeGreaterThan(0);
    const report = lines.join('\n');
    expect(report).toContain('hint: The role');
    // The report ends in sentences: what the counts above them mean.
    const plainWords = lines.indexOf('\nIn plain words:');
    expect(plainWords).toBeGreaterThan(lines.length - 15);
    expect(lines[plainWords + 1]).toMatch(/^- STS answered \d+ calls in all/);
    expect(lines.slice(plainWords + 1).every((line) => line.startsWith('- ') || line.startsWith('  '))).toBe(true);
    expect(report).toContain('Serving 6 S3 requests for 2 customers cost 1 STS call:');
    expect(printed.join('')).not.toMatch(/WARN/); // the refusals the demo provokes are expected: no warning lines
    expect(report).not.toContain(PLATFORM.secretAccessKey);
    for (const tenant of TENANTS) expect(report).not.toContain(tenant.externalId);
    expect(report).not.toMatch(/[0-9a-f]{32}/); // a generated ExternalId
    expect(report).toContain('param_ExternalId=<ExternalId>');
  });
});
