/**
 * An AWS region name such as `us-east-1`: the rule `ServerAwsStsConfig.AWS_REGION` is checked by. It belongs next
 * to the request validators, shared by both; until the config imports it, a spec
 * (test/onboarding/quick-create-url.spec.ts) holds the two equal.
 */
export const REGION_NAME = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

/** Regions outside the `aws` partition (China, GovCloud, the isolated ones), whose consoles live on other hosts. */
const OTHER_PARTITION_REGION = /^(cn|us-gov)-|-iso[a-z]?-/;

/** Whether the region's console is `https://<region>.console.aws.amazon.com`. */
export function hasCommercialConsole(region: string): boolean {
  return !OTHER_PARTITION_REGION.test(region);
}
