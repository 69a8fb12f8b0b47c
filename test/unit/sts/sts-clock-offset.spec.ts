import { STSClient } from '@aws-sdk/client-sts';
import { stsClientSignedBy } from '../../../src/config/sts-client.factory';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';
import { followClockOffset } from '../../../src/sts/sts-clock-offset';

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

describe("STS's clock offset, followed on the client's config", () => {
  it('follows every write the SDK makes, for every reader of one client, and a hop client starts from it', () => {
    const client = new STSClient({ region: 'us-east-1', credentials, systemClockOffset: 5 });
    const first = followClockOffset(client.config);
    const second = followClockOffset(client.config);
    expect([first.offset, second.offset]).toEqual([5, 5]);
    // What the SDK's signer does when STS's Date header shows a skew.
    client.config.systemClockOffset = 7_200_000;
    expect([first.offset, second.offset]).toEqual([7_200_000, 7_200_000]);
    expect(client.config.systemClockOffset).toBe(7_200_000);
    const hop = stsClientSignedBy(client, resolveStsConfig({ AWS_REGION: 'us-east-1', credentials }), credentials);
    expect(hop.config.systemClockOffset).toBe(7_200_000);
  });

  it('reads a config whose offset cannot become an accessor at each call, and has 0 for a client without config', () => {
    const config = Object.freeze({ systemClockOffset: 3 });
    expect(followClockOffset(config).offset).toBe(3);
    const sealed = { systemClockOffset: 4 };
    Object.defineProperty(sealed, 'systemClockOffset', { configurable: false, writable: true });
    const followed = followClockOffset(sealed);
    sealed.systemClockOffset = 9;
    expect(followed.offset).toBe(9);
    expect(followClockOffset(undefined).offset).toBe(0);
  });
});
