import { ConsoleConfigError, toConsoleConfig } from './config';

describe('toConsoleConfig', () => {
  it('fills in the gateway URL, upload URL and title from the page origin', () => {
    expect(toConsoleConfig({ authority: 'https://login.example/tid', clientId: 'c1' }, 'https://console.example')).toEqual({
      authority: 'https://login.example/tid',
      clientId: 'c1',
      knownAuthorities: [],
      apiUrl: 'https://console.example',
      uploadUrl: 'https://console.example/uploads/reply-attachments',
      title: 'mailroute',
    });
  });

  it('refuses a config without a client id, naming the field', () => {
    expect(() => toConsoleConfig({ authority: 'https://login.example/tid' }, 'https://x')).toThrow(
      new ConsoleConfigError('config.json: clientId must be a non-empty string'),
    );
  });

  it('refuses a plain-http authority', () => {
    expect(() => toConsoleConfig({ authority: 'http://login.example/tid', clientId: 'c' }, 'https://x')).toThrow(/https URL/);
  });
});
