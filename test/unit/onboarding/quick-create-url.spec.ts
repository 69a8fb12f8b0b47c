/** quickCreateUrl: the console's quick-create link, every part encoded; it round-trips through URL. */
import { quickCreateUrl } from '../../../src';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';
import { visibleText } from '../../support/visible-text';
import { validationRefusal } from '../../support/async-helpers';

const TEMPLATE_URL = 'https://vendor-templates.s3.amazonaws.com/customer-role.json';
const BASE = {
  templateUrl: TEMPLATE_URL,
  stackName: 'VendorAccess',
  region: 'eu-west-1',
  parameters: { ExternalId: 'c0ffee00c0ffee00c0ffee00c0ffee00' },
};

/** The URL, and the query of its fragment (where the console's router reads the stack's settings). */
function parse(link: string): { url: URL; route: string; query: URLSearchParams } {
  const url = new URL(link);
  const [route, query] = url.hash.slice(1).split('?');
  return { url, route, query: new URLSearchParams(query) };
}

describe('quickCreateUrl', () => {
  it('links to the quick-create page of the region', () => {
    expect(quickCreateUrl(BASE)).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate' +
        '?templateURL=https%3A%2F%2Fvendor-templates.s3.amazonaws.com%2Fcustomer-role.json&stackName=VendorAccess&param_ExternalId=c0ffee00c0ffee00c0ffee00c0ffee00',
    );
    const { url, route } = parse(quickCreateUrl(BASE));
    expect(url.origin).toBe('https://eu-west-1.console.aws.amazon.com');
    expect(url.pathname).toBe('/cloudformation/home');
    expect(url.searchParams.get('region')).toBe('eu-west-1');
    expect(route).toBe('/stacks/quickcreate');
  });

  it('round-trips every part through URL, whatever characters the values hold', () => {
    const templateUrl = 'https://example.com/templates/role v2.json?version=a&b=c#frag';
    const parameters = { ExternalId: 'a=b+c/d:e@f,g.h-i_j', Team: 'Data & Analytics = 100% ☃ 日本', Empty: '', Hash: '#/stacks?x=1' };
    const { query } = parse(quickCreateUrl({ templateUrl, stackName: 'Vendor-Access-2', region: 'ap-southeast-2', parameters }));
    expect([...query.keys()]).toEqual(['templateURL', 'stackName', 'param_ExternalId', 'param_Team', 'param_Empty', 'param_Hash']);
    expect(query.get('templateURL')).toBe(templateUrl);
    expect(query.get('stackName')).toBe('Vendor-Access-2');
    for (const [name, value] of Object.entries(parameters)) expect(query.get(`param_${name}`)).toBe(value);
  });

  it('leaves nothing unencoded in the fragment: no space, &, = or # from a value', () => {
    const link = quickCreateUrl({ ...BASE, parameters: { Team: 'a b&c=d#e' } });
    expect(link.split('#')).toHaveLength(2);
    expect(link).toContain('param_Team=a%20b%26c%3Dd%23e');
  });

  it('works with no parameters', () => {
    expect([...parse(quickCreateUrl({ ...BASE, parameters: {} })).query.keys()]).toEqual(['templateURL', 'stackName']);
  });

  it.each([
    ['a region with capitals', { region: 'EU-WEST-1' }, 'region'],
    ['a region without its number', { region: 'eu-west' }, 'region'],
    ['a host name as the region', { region: 'evil.example.com/x' }, 'region'],
    ['an aws-cn region (its console is elsewhere)', { region: 'cn-north-1' }, 'region'],
    ['an aws-us-gov region', { region: 'us-gov-west-1' }, 'region'],
    ['an isolated region', { region: 'us-iso-east-1' }, 'region'],
    ['a stack name starting with a digit', { stackName: '1stack' }, 'stackName'],
    ['a stack name with an underscore', { stackName: 'vendor_access' }, 'stackName'],
    ['a stack name of 129 characters', { stackName: 's'.repeat(129) }, 'stackName'],
    ['an empty stack name', { stackName: '' }, 'stackName'],
    ['an http template URL', { templateUrl: 'http://example.com/t.json' }, 'templateUrl'],
    ['a template path', { templateUrl: '/templates/t.json' }, 'templateUrl'],
    ['a javascript: URL', { templateUrl: 'javascript:alert(1)' }, 'templateUrl'],
    ['parameters that are not an object', { parameters: 'ExternalId=x' }, 'parameters'],
    ['a parameter name with a dash', { parameters: { 'External-Id': 'abc' } }, 'parameters'],
    ['a parameter value that is a number', { parameters: { Count: 3 } }, 'parameters'],
    ['an ExternalId outside the STS rules', { parameters: { ExternalId: 'has space' } }, 'parameters.ExternalId'],
  ])('refuses %s', (_label, options, field) => {
    expect(validationRefusal(() => quickCreateUrl({ ...BASE, ...(options as object) })).field).toBe(field);
  });

  it('never shows a parameter value in an error', () => {
    const secret = 'tenant-42-external-id';
    for (const options of [
      { region: 'nope' },
      { stackName: '_' },
      { templateUrl: 'ftp://x' },
      { parameters: { ExternalId: secret, 'Bad-Name': secret } },
    ]) {
      const error = validationRefusal(() => quickCreateUrl({ ...BASE, parameters: { ExternalId: secret }, ...options }));
      expect(visibleText(error)).not.toContain(secret);
    }
    const badId = 'tenant 42 external id';
    expect(visibleText(validationRefusal(() => quickCreateUrl({ ...BASE, parameters: { ExternalId: badId } })))).not.toContain(badId);
  });

  it('holds region names to the same rule as the AWS_REGION config', () => {
    const commercial = ['us-east-1', 'eu-central-2', 'ap-southeast-5', 'me-south-1', 'il-central-1', 'mx-central-1'];
    const bad = ['us-east', 'US-EAST-1', 'useast1', 'u-east-1', 'us-east-1a', 'us_east_1', ' us-east-1', ''];
    const configAccepts = (region: string) => {
      try {
        resolveStsConfig({ AWS_REGION: region, credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' } });
        return true;
      } catch {
        return false;
      }
    };
    const linkAccepts = (region: string) => {
      try {
        quickCreateUrl({ ...BASE, region });
        return true;
      } catch {
        return false;
      }
    };
    for (const region of [...commercial, ...bad]) expect([region, linkAccepts(region)]).toEqual([region, configAccepts(region)]);
  });
});
