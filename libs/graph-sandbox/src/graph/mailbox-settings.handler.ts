import type { GraphRequestContext, GraphResult, GraphRoute } from './graph-route';

/**
 * `mailboxSettings` as far as the sandbox models it: `userPurpose` (user or shared) plus fixed locale,
 * time zone and formats. Reading needs MailboxSettings.Read(Write) — as an application permission for any
 * mailbox, as a delegated scope only for the signed-in user's own mailbox (there is no `.Shared` variant:
 * a delegate's request for another mailbox's settings is 403 ErrorAccessDenied).
 */
function settingsOf(context: GraphRequestContext) {
  return {
    archiveFolder: '',
    timeZone: 'UTC',
    dateFormat: 'yyyy-MM-dd',
    timeFormat: 'HH:mm',
    language: { locale: 'en-US', displayName: 'English (United States)' },
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
    userPurpose: context.mailbox.userPurpose,
  };
}

const settingsContext = (context: GraphRequestContext, tail = '') =>
  `${context.sandbox.baseUrl()}/v1.0/$metadata#users('${context.mailbox.id}')/mailboxSettings${tail}`;

function getSettings(context: GraphRequestContext): GraphResult {
  return { status: 200, body: { '@odata.context': settingsContext(context), ...settingsOf(context) } };
}

function getUserPurpose(context: GraphRequestContext): GraphResult {
  return {
    status: 200,
    body: { '@odata.context': settingsContext(context, '/userPurpose'), value: context.mailbox.userPurpose },
  };
}

export const mailboxSettingsRoutes: GraphRoute[] = [
  { method: 'GET', path: 'mailboxSettings', name: 'mailboxSettings.get', access: 'settings', handle: getSettings },
  {
    method: 'GET',
    path: 'mailboxSettings/userPurpose',
    name: 'mailboxSettings.userPurpose',
    access: 'settings',
    handle: getUserPurpose,
  },
];
