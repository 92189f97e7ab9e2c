import { runService } from '@mailroute/platform';
import { configSchema } from './config';
import { wireInteractionRouter } from './service';

void runService({ name: 'interaction-router', configSchema, wire: wireInteractionRouter });
