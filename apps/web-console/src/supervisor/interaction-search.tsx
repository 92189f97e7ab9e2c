// The interaction search: the form's fields, the filter they make, and the form itself.
import type { InteractionFilter, InteractionState } from '@mailroute/contracts';
import { STATES, stateLabel } from './interaction-state';

export interface SearchForm {
  state: string;
  queueId: string;
  agentId: string;
  mailboxId: string;
  customer: string;
  subject: string;
  reference: string;
  after: string;
  before: string;
}

export const emptyForm: SearchForm = {
  state: '',
  queueId: '',
  agentId: '',
  mailboxId: '',
  customer: '',
  subject: '',
  reference: '',
  after: '',
  before: '',
};

export function toFilter(form: SearchForm): InteractionFilter {
  return {
    states: form.state ? [Number(form.state) as InteractionState] : [],
    queueIds: form.queueId ? [form.queueId] : [],
    agentIds: form.agentId ? [form.agentId] : [],
    mailboxIds: form.mailboxId ? [form.mailboxId.trim()] : [],
    customerAddress: form.customer.trim(),
    conversationId: '',
    internetMessageId: '',
    subjectContains: form.subject.trim(),
    tags: [],
    receivedAfter: form.after ? new Date(form.after) : undefined,
    receivedBefore: form.before ? new Date(form.before) : undefined,
    slaStates: [],
    reference: form.reference.trim(),
  };
}

/** The search form: edits `form`; `onSearch` applies it. */
export function SearchFilters(props: {
  form: SearchForm;
  setForm: (form: SearchForm) => void;
  onSearch: () => void;
  agents: { id: string; name: string }[];
  queues: { id: string; name: string }[];
}) {
  const { form, setForm } = props;
  const field = (key: keyof SearchForm) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  return (
    <form
      class="filters"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSearch();
      }}
    >
      <label>
        State
        <select value={form.state} onChange={field('state')}>
          <option value="">Any</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {stateLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Queue
        <select value={form.queueId} onChange={field('queueId')}>
          <option value="">Any</option>
          {props.queues.map((q) => (
            <option key={q.id} value={q.id}>
              {q.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Agent
        <select value={form.agentId} onChange={field('agentId')}>
          <option value="">Any</option>
          {props.agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Mailbox id
        <input type="text" value={form.mailboxId} onInput={field('mailboxId')} size={12} />
      </label>
      <label>
        Customer
        <input type="search" value={form.customer} onInput={field('customer')} placeholder="address" size={18} />
      </label>
      <label>
        Subject contains
        <input type="search" value={form.subject} onInput={field('subject')} size={16} />
      </label>
      <label>
        Reference
        <input type="search" value={form.reference} onInput={field('reference')} placeholder="ABC-1234" size={12} />
      </label>
      <label>
        Received after
        <input type="datetime-local" value={form.after} onInput={field('after')} />
      </label>
      <label>
        before
        <input type="datetime-local" value={form.before} onInput={field('before')} />
      </label>
      <button type="submit" class="primary">
        Search
      </button>
    </form>
  );
}
