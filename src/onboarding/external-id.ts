import { randomBytes } from 'node:crypto';

/** Random bytes in an ExternalId: 16 bytes are 128 bits, the floor for a value no one can guess. */
const EXTERNAL_ID_BYTES = 16;

/**
 * A new ExternalId for one customer account: 32 lowercase hex characters (128 bits from `node:crypto`'s secure
 * random source), e.g. `9f86d081884c7d659a2feaa0c55ad015`. Always within STS's ExternalId rules (2–1224 of
 * `[\w+=,.@:/-]`), with no prefix or structure to guess at, and easy to read back over the phone.
 *
 * Generate it yourself, once per customer, and store it with the customer's role ARN: an ExternalId a customer
 * picks, or one shared by several customers, does not stop the confused-deputy attack it exists for.
 */
export function generateExternalId(): string {
  return randomBytes(EXTERNAL_ID_BYTES).toString('hex');
}
