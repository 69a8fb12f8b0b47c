/** This package's version, for the OpenTelemetry meter (a spec checks it matches package.json). */
export const PACKAGE_VERSION = '0.1.0';
