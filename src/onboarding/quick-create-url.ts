import { STS_LIMITS } from '../sts/sts-limits.js';
import { RequestValidator } from '../sts/sts-validation.js';
import { hasCommercialConsole } from './region.js';

/** Input of `quickCreateUrl`. */
export interface QuickCreateUrlOptions {
  /** Where the template is: an `https` URL (CloudFormation reads templates from S3, e.g. `https://<bucket>.s3.amazonaws.com/role.json`). */
  templateUrl: string;
  /** The stack's name, filled in for the customer: 1–128 of `[-a-zA-Z0-9]`, starting with a letter. */
  stackName: string;
  /** The region the console opens in, e.g. `us-east-1` (`aws` partition only; the template's role is global anyway). */
  region: string;
  /** Stack parameters filled in for the customer, by name, e.g. `{ ExternalId }`: each becomes `param_<Name>`. */
  parameters: Record<string, string>;
}

/** CloudFormation stack names. */
const STACK_NAME = { min: 1, max: 128, pattern: /^[a-zA-Z][-a-zA-Z0-9]*$/, rule: 'of [-a-zA-Z0-9], starting with a letter' } as const;
/** CloudFormation parameter names. */
const PARAMETER_NAME = /^[a-zA-Z0-9]{1,255}$/;

function isHttpsUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Checks the parameters (never echoing a value); returns a copy of them, read once. */
function checkParameters(validate: RequestValidator, parameters: unknown): Array<[string, string]> {
  validate.require(
    typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters),
    'parameters',
    'must be an object of parameter name → value',
  );
  const entries = Object.entries(parameters as Record<string, unknown>);
  validate.require(
    entries.every(([name]) => PARAMETER_NAME.test(name)),
    'parameters',
    'names must be 1–255 letters or digits (CloudFormation parameter names)',
  );
  validate.require(
    entries.every(([, value]) => typeof value === 'string'),
    'parameters',
    'values must be strings',
  );
  const externalId = entries.find(([name]) => name === 'ExternalId');
  if (externalId) validate.text(externalId[1], 'parameters.ExternalId', STS_LIMITS.externalId);
  return entries as Array<[string, string]>;
}

/**
 * The AWS console link that opens CloudFormation's quick-create page with the template and its parameters filled
 * in, so the customer only reviews and confirms:
 * `https://<region>.console.aws.amazon.com/cloudformation/home?region=<region>#/stacks/quickcreate?templateURL=…&stackName=…&param_ExternalId=…`.
 * Every part is percent-encoded (`encodeURIComponent`). The link holds the parameter values, the ExternalId included:
 * send it only to the customer.
 *
 * @throws StsValidationError for a region that is not an `aws`-partition region name, a bad stack name, a template URL
 * that is not `https`, a parameter name CloudFormation would not accept or a value that is not a string, or an
 * `ExternalId` parameter outside STS's rules. The error never shows a parameter value.
 */
export function quickCreateUrl(options: QuickCreateUrlOptions): string {
  const validate = new RequestValidator('Configuration');
  validate.request(options);
  const { templateUrl, stackName, region, parameters } = options;
  validate.region(region, 'region');
  validate.require(
    hasCommercialConsole(region),
    'region',
    'must be a region of the aws partition (China, GovCloud and isolated regions have their consoles elsewhere)',
  );
  validate.text(stackName, 'stackName', STACK_NAME);
  validate.require(isHttpsUrl(templateUrl), 'templateUrl', 'must be an https URL');
  const entries = checkParameters(validate, parameters);

  const query = [['templateURL', templateUrl], ['stackName', stackName], ...entries.map(([name, value]) => [`param_${name}`, value])]
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  const encodedRegion = encodeURIComponent(region);
  return `https://${encodedRegion}.console.aws.amazon.com/cloudformation/home?region=${encodedRegion}#/stacks/quickcreate?${query}`;
}
