import { OutgoingMessage } from '@mailroute/contracts';
import { withSignature } from './signature-append';

const signature = { html: '<p>Pia</p>', text: 'Pia\nSupport', templateId: 'team' };

describe('a reply signature', () => {
  it('is appended to an HTML body in a marked block, once', () => {
    const signed = withSignature(OutgoingMessage.fromPartial({ bodyHtml: '<p>Done.</p>' }), signature);
    expect(signed.bodyHtml).toBe('<p>Done.</p><div data-mailroute-signature="1"><p>Pia</p></div>');
    expect(withSignature(signed, signature).bodyHtml).toBe(signed.bodyHtml);
  });

  it('is appended to a text-only body after "-- ", once, and an HTML body takes its text escaped when it has no HTML', () => {
    const signed = withSignature(OutgoingMessage.fromPartial({ bodyText: 'Done.' }), signature);
    expect(signed.bodyText).toBe('Done.\n\n-- \nPia\nSupport');
    expect(withSignature(signed, signature).bodyText).toBe(signed.bodyText);
    const fromText = withSignature(OutgoingMessage.fromPartial({ bodyHtml: '<p>x</p>' }), {
      html: '',
      text: '<Pia>\nSupport',
      templateId: 't',
    });
    expect(fromText.bodyHtml).toContain('&lt;Pia&gt;<br>Support');
  });

  it('leaves a message without a signature unchanged', () => {
    const message = OutgoingMessage.fromPartial({ bodyText: 'Done.' });
    expect(withSignature(message, undefined)).toBe(message);
  });
});
