export * from './errors';
export * from './graph-mail.types';
export * from './mailbox-limiter';
export * from './mail-html-sanitizer';
export * from './mail-automation';
export {
  createGraphMailClient,
  deltaSelect,
  mailboxKey,
  messageSelect,
  permissionsOf,
  type GraphMailClient,
  type GraphMailClientOptions,
  type MailboxGraph,
  type MailboxGraphOptions,
} from './graph-mail.client';
export * from './graph-send.client';
