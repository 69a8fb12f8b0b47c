import { Logger } from '@nestjs/common';

// The library logs STS failures through Nest's Logger; the specs provoke many on purpose.
// Specs that assert on logs install their own logger.
Logger.overrideLogger(false);
