import { runService } from '@mailroute/platform';
import { configSchema } from './config';
import { wireAuthBroker } from './wiring';

void runService({ name: 'auth-broker', configSchema, wire: wireAuthBroker });
