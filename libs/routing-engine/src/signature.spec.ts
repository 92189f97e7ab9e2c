import { SignatureRule, SignatureSource } from '@mailroute/contracts';
import {
  chooseSignatures,
  defaultSignatureParts,
  toSignatureParts,
  validateMailboxSettings,
  validateSignatureRule,
} from './signature';

const { SIGNATURE_SOURCE_AGENT: AGENT, SIGNATURE_SOURCE_QUEUE: QUEUE, SIGNATURE_SOURCE_MAILBOX: MAILBOX } = SignatureSource;
const rule = (...parts: SignatureSource[][]) => SignatureRule.fromPartial({ parts: parts.map((sources) => ({ sources })) });

describe('signature rule', () => {
  it('appends, per part, the first signature its sources have', () => {
    const all = { agent: 'a', queue: 'q', mailbox: 'm' };
    expect(chooseSignatures(all, toSignatureParts(undefined))).toEqual(['a']);
    expect(chooseSignatures({ mailbox: 'm' }, defaultSignatureParts)).toEqual(['m']);
    const agentThenTeam = toSignatureParts(rule([AGENT], [QUEUE, MAILBOX]));
    expect(chooseSignatures(all, agentThenTeam)).toEqual(['a', 'q']);
    expect(chooseSignatures({ agent: 'a', mailbox: 'm' }, agentThenTeam)).toEqual(['a', 'm']);
    expect(chooseSignatures({ queue: 'q' }, agentThenTeam)).toEqual(['q']);
    expect(chooseSignatures(all, toSignatureParts(rule([MAILBOX])))).toEqual(['m']);
    expect(chooseSignatures(all, toSignatureParts(rule()))).toEqual([]);
  });

  it('adds a template two parts choose only once', () => {
    expect(chooseSignatures({ agent: 't', queue: 't' }, [['agent'], ['queue']])).toEqual(['t']);
  });

  it('refuses unknown and repeated sources and too many parts, naming the field', () => {
    expect(validateSignatureRule(rule([AGENT], [QUEUE, MAILBOX]))).toEqual([]);
    expect(validateSignatureRule(rule([AGENT], [AGENT]), { fieldPrefix: 'rule' })).toEqual([
      { field: 'rule.parts[1].sources[0]', message: 'names a source already used in the rule' },
    ]);
    expect(validateSignatureRule(rule([SignatureSource.SIGNATURE_SOURCE_UNSPECIFIED]))[0]?.field).toBe('parts[0].sources[0]');
    expect(validateSignatureRule(rule([]))[0]?.field).toBe('parts[0].sources');
    expect(validateSignatureRule(rule([AGENT], [QUEUE], [MAILBOX], [AGENT]))[0]?.field).toBe('parts');
  });

  it('checks a mailbox’s signature template id and acknowledgement like a queue’s', () => {
    expect(
      validateMailboxSettings(
        {
          mailboxId: 'm',
          signatureTemplateId: 'Bad Id',
          acknowledgement: { enabled: true, templateId: '', outOfHoursTemplateId: '', referencePrefix: 'abc' },
        } as never,
        { fieldPrefix: 'settings' },
      ).map((violation) => violation.field),
    ).toEqual([
      'settings.signature_template_id',
      'settings.acknowledgement.template_id',
      'settings.acknowledgement.reference_prefix',
    ]);
  });
});
