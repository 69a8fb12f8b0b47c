import type { RequestValidator } from '../sts/sts-validation.js';

/** The versions of IAM's policy language. */
const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'];
const DOCUMENT_ELEMENTS = new Set(['Version', 'Id', 'Statement']);
/** A permissions (identity-based) policy's statement: no `Principal`, which only resource policies have. */
const STATEMENT_ELEMENTS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const isText = (value: unknown) => typeof value === 'string' && value.length > 0;
/** A string, or a non-empty list of strings: how IAM takes `Action` and `Resource`. */
const isStringOrList = (value: unknown) => isText(value) || (Array.isArray(value) && value.length > 0 && value.every(isText));

/** A condition value as IAM takes it: a string, a number or a boolean. */
const isConditionValue = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

/** Checks `Condition`: operator → { condition key → a value or a non-empty list of values }. */
function checkCondition(validate: RequestValidator, condition: unknown, field: string): void {
  if (condition === undefined) return;
  validate.require(isObject(condition), field, 'must be an object of condition operator → { key: value }');
  for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
    const isValueOrList = (value: unknown) =>
      isConditionValue(value) || (Array.isArray(value) && value.length > 0 && value.every(isConditionValue));
    const valuesOk = isObject(block) && Object.values(block).every(isValueOrList);
    const rule = 'must be an object of condition key → a string, number or boolean, or a non-empty array of them';
    validate.require(valuesOk, `${field}.${operator}`, rule);
  }
}

/** Checks that exactly one of `name` and `Not<name>` is given, as a string or a non-empty list of strings. */
function checkOneOf(validate: RequestValidator, statement: Record<string, unknown>, name: 'Action' | 'Resource', field: string): void {
  const given = [name, `Not${name}`].filter((key) => statement[key] !== undefined);
  validate.require(given.length === 1, `${field}.${name}`, `give exactly one of ${name} or Not${name}`);
  validate.require(isStringOrList(statement[given[0]]), `${field}.${given[0]}`, 'must be a string or a non-empty array of strings');
}

function checkStatement(validate: RequestValidator, statement: unknown, field: string): void {
  validate.require(isObject(statement), field, 'must be an object with Effect, Action (or NotAction) and Resource (or NotResource)');
  const elements = statement as Record<string, unknown>;
  for (const principal of ['Principal', 'NotPrincipal']) {
    const rule = 'must not be given: a permissions policy applies to the role itself (IAM refuses it)';
    validate.require(elements[principal] === undefined, `${field}.${principal}`, rule);
  }
  validate.require(elements.Sid === undefined || typeof elements.Sid === 'string', `${field}.Sid`, 'must be a string');
  validate.require(elements.Effect === 'Allow' || elements.Effect === 'Deny', `${field}.Effect`, 'must be "Allow" or "Deny"');
  checkOneOf(validate, elements, 'Action', field);
  checkOneOf(validate, elements, 'Resource', field);
  checkCondition(validate, elements.Condition, `${field}.Condition`);
  validate.require(
    Object.keys(elements).every((key) => STATEMENT_ELEMENTS.has(key)),
    field,
    `must only hold ${[...STATEMENT_ELEMENTS].join(', ')}`,
  );
}

/**
 * Checks the shape of an IAM permissions policy document, as IAM's grammar has it: `Version` (`2012-10-17` or
 * `2008-10-17`), an optional `Id`, and `Statement`, one statement or a non-empty list, each with `Effect`
 * (`Allow`/`Deny`), `Action` or `NotAction`, `Resource` or `NotResource`, and optionally `Sid` and `Condition`
 * (operator → { key → a string, number or boolean, or a non-empty list of them }).
 * It does not check action names or ARNs: IAM does that when the role is created.
 */
export function checkPolicyDocument(validate: RequestValidator, document: Record<string, unknown>, field = 'policy'): void {
  const versionRule = 'must be "2012-10-17" (or "2008-10-17"): the policy language version';
  validate.require(POLICY_VERSIONS.includes(document.Version as string), `${field}.Version`, versionRule);
  validate.require(document.Id === undefined || typeof document.Id === 'string', `${field}.Id`, 'must be a string');
  const { Statement: statement } = document;
  const statementOk = isObject(statement) || (Array.isArray(statement) && statement.length > 0);
  validate.require(statementOk, `${field}.Statement`, 'must be a statement or a non-empty array of statements');
  if (Array.isArray(statement)) statement.forEach((item, index) => checkStatement(validate, item, `${field}.Statement[${index}]`));
  else checkStatement(validate, statement, `${field}.Statement`);
  const onlyKnown = Object.keys(document).every((key) => DOCUMENT_ELEMENTS.has(key));
  validate.require(onlyKnown, field, 'must only hold Version, Id and Statement (a policy document)');
}
