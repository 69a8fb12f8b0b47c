/** The tarball `npm pack` made of the library for this run (see global-setup.ts). */
export function packedTarball(): string {
  const tarball = process.env.NESTJS_AWS_STS_TARBALL;
  if (process.env.NESTJS_AWS_STS_PACK_ERROR)
    throw new Error(`npm pack failed in the global setup: ${process.env.NESTJS_AWS_STS_PACK_ERROR}`);
  if (!tarball)
    throw new Error(
      'NESTJS_AWS_STS_TARBALL is not set: run this spec through jest.package.config.ts (npm run test:package), whose globalSetup packs the library',
    );
  return tarball;
}
