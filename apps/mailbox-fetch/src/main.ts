import { runService } from '@mailroute/platform';
import { configSchema } from './config';
import { wireMailboxFetch } from './wiring';

void runService({ name: 'mailbox-fetch', configSchema, wire: wireMailboxFetch });
