import {
  OutOfHoursMode,
  TemplateKind,
  type Calendar,
  type MessageTemplate,
  type QueueAcknowledgement,
  type QueueHours,
} from '@mailroute/contracts';

/**
 * What the demo tenant gets beside its queues, so a newcomer sees business hours, acknowledgements
 * and templates working: an office calendar (Europe/Berlin, weekdays 08:00-18:00, Christmas and New
 * Year closed, New Year's Eve closing early), used by the sales queue, and a few templates. The sales
 * queue counts its service level and escalations in business hours but lets its agents work out of
 * hours, so the demo still offers mail at night — only the due times move. Every queue acknowledges
 * a customer's new mail once (the out-of-hours template while the sales queue is closed), with a
 * reference in the subject.
 */
export const demoCalendarId = 'office';

export const demoCalendar: Omit<Calendar, 'calendarId' | 'createdAt' | 'updatedAt' | 'etag'> = {
  displayName: 'Office hours (Berlin)',
  timeZone: 'Europe/Berlin',
  weeklyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, ranges: [{ start: '08:00', end: '18:00' }] })),
  holidays: [
    { name: 'Christmas', startDate: '2026-12-24', endDate: '2026-12-26' },
    { name: 'New Year', startDate: '2027-01-01', endDate: '' },
  ],
  exceptions: [{ date: '2026-12-31', ranges: [{ start: '08:00', end: '13:00' }], note: "New Year's Eve: closes at 13:00" }],
};

/** Business hours of the demo's queues by queue id (the queues not named are always open). */
export const demoQueueHours: Readonly<Record<string, QueueHours>> = {
  sales: {
    calendarId: demoCalendarId,
    whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_WAIT,
    overflowQueueId: '',
    agentsWorkOutOfHours: true,
    serviceLevelBusinessTime: true,
    escalationBusinessTime: true,
  },
};

/** The acknowledgement of every demo queue (the templates below). */
export const demoAcknowledgement: QueueAcknowledgement = {
  enabled: true,
  templateId: 'acknowledgement',
  outOfHoursTemplateId: 'out-of-hours',
  period: undefined,
  referencePrefix: 'CON',
};

type DemoTemplate = Omit<MessageTemplate, 'templateId' | 'createdAt' | 'updatedAt' | 'etag' | 'attachments'>;

export const demoTemplates: Readonly<Record<string, DemoTemplate>> = {
  'thanks-looking-into-it': {
    displayName: 'Thanks, we are looking into it',
    kind: TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
    queueIds: [],
    subject: 'Re: {{subject}}',
    html: '<p>Hello {{customer_name}},</p><p>thank you for your message. We are looking into it and will get back to you shortly.</p><p>{{agent_name}}, {{queue_name}}</p>',
    text: 'Hello {{customer_name}},\n\nthank you for your message. We are looking into it and will get back to you shortly.\n\n{{agent_name}}, {{queue_name}}',
  },
  'quote-on-its-way': {
    displayName: 'Your quote is on its way',
    kind: TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
    queueIds: ['sales'],
    subject: 'Re: {{subject}}',
    html: '<p>Hello {{customer_name}},</p><p>thank you for your interest. Your quote will reach you within one business day.</p><p>{{agent_name}}</p>',
    text: 'Hello {{customer_name}},\n\nthank you for your interest. Your quote will reach you within one business day.\n\n{{agent_name}}',
  },
  acknowledgement: {
    displayName: 'We received your message',
    kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
    queueIds: [],
    subject: 'We received your message: {{subject}}',
    html: '<p>Hello {{customer_name}},</p><p>we received your message "{{subject}}" and will answer it soon. Your reference is {{interaction_reference}}.</p>',
    text: 'Hello {{customer_name}},\n\nwe received your message "{{subject}}" and will answer it soon. Your reference is {{interaction_reference}}.',
  },
  'out-of-hours': {
    displayName: 'We are closed right now',
    kind: TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
    queueIds: [],
    subject: 'We received your message: {{subject}}',
    html: '<p>Hello {{customer_name}},</p><p>our office is closed right now (weekdays 08:00-18:00, Berlin time). We will answer your message when we open. Your reference is {{interaction_reference}}.</p>',
    text: 'Hello {{customer_name}},\n\nour office is closed right now (weekdays 08:00-18:00, Berlin time). We will answer your message when we open. Your reference is {{interaction_reference}}.',
  },
  'team-signature': {
    displayName: 'Contoso team signature',
    kind: TemplateKind.TEMPLATE_KIND_SIGNATURE,
    queueIds: [],
    subject: '',
    html: '<p>--<br>{{agent_name}}<br>Contoso {{queue_name}} · {{mailbox_address}}</p>',
    text: '--\n{{agent_name}}\nContoso {{queue_name}} · {{mailbox_address}}',
  },
};
