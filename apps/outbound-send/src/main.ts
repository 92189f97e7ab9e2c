import { runService } from '@mailroute/platform';
import { configSchema } from './config';
import { wireOutboundSend } from './wiring';

void runService({ name: 'outbound-send', configSchema, wire: wireOutboundSend });
