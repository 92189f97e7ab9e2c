// Small pieces the supervisor tabs share: paging through a list, a failure said plainly, an empty list.
import type { PageRequest } from '@mailroute/contracts';
import type { Failure } from '../api/errors';

const PAGE_SIZE = 100;
const MAX_PAGES = 20;

/** Every item of a paginated list call (up to 2,000). */
export async function listAll<R extends { nextPageToken: string }, T>(
  call: (page: PageRequest) => Promise<R>,
  items: (response: R) => T[],
): Promise<T[]> {
  const all: T[] = [];
  let pageToken = '';
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const response = await call({ pageSize: PAGE_SIZE, pageToken });
    all.push(...items(response));
    pageToken = response.nextPageToken;
    if (!pageToken) break;
  }
  return all;
}

export function FailureLine(props: { failure: Failure | undefined; what?: string }) {
  if (!props.failure) return null;
  const text =
    props.failure.kind === 'not-allowed'
      ? `Not allowed${props.what ? ` to see ${props.what}` : ''}: ${props.failure.message}`
      : props.failure.kind === 'signed-out'
        ? `${props.what ? `${props.what}: ` : ''}your sign-in is not accepted here${props.failure.detail ? ` (${props.failure.detail})` : ''}`
        : `${props.what ? `${props.what}: ` : ''}${props.failure.message}`;
  return (
    <p class="error" role="alert" data-testid="failure">
      {text}
    </p>
  );
}

/** The line shown under a list that came back empty (nothing while it is still loading). */
export function Empty(props: { list: unknown[] | undefined; text: string }) {
  return props.list?.length === 0 ? <p class="empty">{props.text}</p> : null;
}
