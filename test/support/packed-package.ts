/** The tarball `npm pack` made of the library for this run (see global-setup.ts). */
export function packedTarball(): string {
  const tarball = process.env.NESTJS_AWS_STS_TARBALL;
  if (!tarball) throw new Error('NESTJS_AWS_STS_TARBALL is not set: run this spec through jest.config.ts, whose globalSetup packs the library');
  return tarball;
}
