/** Regions outside the `aws` partition (China, GovCloud, the isolated ones), whose consoles live on other hosts. */
const OTHER_PARTITION_REGION = /^(cn|us-gov)-|-iso[a-z]?-/;

/** Whether the region's console is `https://<region>.console.aws.amazon.com`. */
export function hasCommercialConsole(region: string): boolean {
  return !OTHER_PARTITION_REGION.test(region);
}
