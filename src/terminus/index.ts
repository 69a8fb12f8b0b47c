// `nestjs-aws-sts/terminus`: the Terminus health indicator, a subpath of its own so that the main entry never loads
// `@nestjs/terminus` (an optional peer: ^11, CommonJS, or ^12, ES modules only). Documented in docs/metrics-and-health.md ("Health checks").
export {
  StsHealthIndicator,
  type StsHealthCheckOptions,
  type StsHealthResult,
  type StsHealthUpDetails,
  type StsHealthDownDetails,
  type StsHealthCacheFigures,
  type StsHealthSharedFigures,
} from './sts-health.indicator.js';
