import fc from 'fast-check';
import { MessageTemplate, TemplateKind } from '@mailroute/contracts';
import {
  renderMessageTemplate,
  templateKindOf,
  templateMatches,
  validateMessageTemplate,
  validateTemplateResource,
} from './message-template';

describe('message templates', () => {
  const acknowledgement = {
    subject: 'Re: {{subject}} [#{{interaction_reference}}]',
    html: '<p>Dear {{customer_name}},</p><p>{{queue_name}} will answer soon.{{#agent_name}} {{agent_name}}{{/agent_name}}</p>',
    text: 'Dear {{customer_name}},\n{{queue_name}} will answer soon.',
  };

  it('renders every placeholder in subject, HTML and text', () => {
    expect(
      renderMessageTemplate(acknowledgement, {
        customer_name: 'Ann Lee',
        queue_name: 'Billing',
        subject: 'Invoice',
        interaction_reference: 'ABC-1234',
      }),
    ).toEqual({
      subject: 'Re: Invoice [#ABC-1234]',
      html: '<p>Dear Ann Lee,</p><p>Billing will answer soon.</p>',
      text: 'Dear Ann Lee,\nBilling will answer soon.',
    });
  });

  it('renders a customer name containing markup as text in HTML', () => {
    const rendered = renderMessageTemplate(acknowledgement, {
      customer_name: '<img src=x onerror=alert(1)><script>alert(2)</script>',
      agent_name: '"><a href="javascript:x">',
    });
    expect(rendered.html).toBe(
      '<p>Dear &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;&lt;script&gt;alert(2)&lt;&#x2F;script&gt;,</p>' +
        '<p> will answer soon. &quot;&gt;&lt;a href&#x3D;&quot;javascript:x&quot;&gt;</p>',
    );
    expect(rendered.text).toContain('<img src=x onerror=alert(1)>');
  });

  it('never lets a value add a tag or re-enter the template engine (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (name) => {
        const { html } = renderMessageTemplate({ html: '<b>{{customer_name}}</b>' }, { customer_name: name });
        const inner = html.slice(3, -4);
        expect(inner).not.toMatch(/[<>"']/);
        expect(html.startsWith('<b>') && html.endsWith('</b>')).toBe(true);
      }),
    );
    expect(renderMessageTemplate({ text: '{{customer_name}}' }, { customer_name: '{{agent_name}}', agent_name: 'x' }).text).toBe(
      '{{agent_name}}',
    );
  });

  it('keeps the subject to one line', () => {
    expect(
      renderMessageTemplate({ subject: 'Re: {{subject}}', text: 'x' }, { subject: 'a\r\nBcc: evil@example.com' }).subject,
    ).toBe('Re: a Bcc: evil@example.com');
  });

  it('refuses unescaped output, partials, delimiter changes, unknown placeholders and bad syntax, naming the field', () => {
    const fields = (content: Parameters<typeof validateMessageTemplate>[0]) =>
      validateMessageTemplate(content, { fieldPrefix: 'template' }).map((v) => `${v.field}: ${v.message}`);
    expect(fields(acknowledgement)).toEqual([]);
    expect(fields({ html: '{{{customer_name}}}' })).toEqual([
      'template.html: uses unescaped output ({{{customer_name}}} or {{&customer_name}}): use {{customer_name}}',
    ]);
    expect(fields({ html: '{{& customer_name}}' })[0]).toMatch(/^template.html: uses unescaped output/);
    expect(fields({ text: '{{> footer}}' })[0]).toMatch(/^template.text: uses a partial/);
    expect(fields({ text: '{{=<% %>=}}' })[0]).toMatch(/^template.text: changes the delimiters/);
    expect(fields({ text: '{{#customer_name}}{{password}}{{/customer_name}}' })[0]).toMatch(
      /^template.text: uses an unknown placeholder \{\{password\}\}/,
    );
    expect(fields({ text: '{{#customer_name}}open' })[0]).toMatch(/^template.text: is not a valid template/);
    expect(fields({ subject: 'a\nb', text: 'x' })).toEqual(['template.subject: must be one line']);
    expect(fields({ subject: 'only a subject' })).toEqual(['template.text: is required when html is empty']);
  });
});

describe('template resources', () => {
  it('checks the name, kind and queue ids, then the parts, and searches name, subject and text', () => {
    const template = MessageTemplate.fromPartial({
      displayName: 'Refund policy',
      subject: 'Refunds',
      text: 'Takes 5 days',
      queueIds: ['billing'],
    });
    expect(validateTemplateResource(template, { fieldPrefix: 'template' })).toEqual([]);
    expect(
      validateTemplateResource(
        MessageTemplate.fromPartial({ displayName: '', kind: 9 as TemplateKind, queueIds: ['Bad Id'], text: '{{>x}}' }),
        { fieldPrefix: 'template' },
      ).map((v) => v.field),
    ).toEqual(['template.display_name', 'template.kind', 'template.queue_ids[0]', 'template.text']);
    expect(templateKindOf(template)).toBe(TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE);
    expect(templateMatches(template, '5 DAYS')).toBe(true);
    expect(templateMatches(template, 'refund')).toBe(true);
    expect(templateMatches(template, 'shipping')).toBe(false);
    expect(templateMatches(template, ' ')).toBe(true);
  });
});
