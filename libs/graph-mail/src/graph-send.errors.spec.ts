import { classifyGraphError } from './errors';

describe('classifying failures of send calls', () => {
  it('treats a request that got no response (graph-client statusCode -1: abort, timeout, reset) as unavailable, so a send is ambiguous rather than rejected', () => {
    const error = classifyGraphError({ statusCode: -1, code: 'AbortError', message: 'The operation was aborted due to timeout' });
    expect(error.kind).toBe('unavailable');
    expect(error.retryable).toBe(true);
  });

  it('keeps ErrorInvalidRecipients and ErrorMessageSizeExceeded as permanent rejections with their Graph code', () => {
    expect(
      classifyGraphError({ statusCode: 400, code: 'ErrorInvalidRecipients', message: "At least one recipient isn't valid." }),
    ).toMatchObject({ kind: 'rejected', graphCode: 'ErrorInvalidRecipients', retryable: false });
    expect(classifyGraphError({ statusCode: 400, code: 'ErrorMessageSizeExceeded', message: 'too big' })).toMatchObject({
      kind: 'rejected',
      graphCode: 'ErrorMessageSizeExceeded',
    });
  });
});
