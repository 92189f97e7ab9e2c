// One offer: who wrote, about what, from which queue, the time left to accept, Accept and Decline.
import { OfferReason, type Offer } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { enumLabel, formatAddress, formatDuration } from '../ui/format';

/** Under this much time left an offer is shown as expiring. */
const EXPIRING_MS = 15_000;

export function OfferCard(props: {
  offer: Offer;
  timeLeftMs: number;
  queueName: string;
  onAccept: () => Promise<void>;
  onDecline: () => Promise<void>;
}) {
  const [busy, setBusy] = useState<'accept' | 'decline' | undefined>();
  const { offer, timeLeftMs } = props;
  const interaction = offer.interaction;
  // The offer's timeout; a server that sends none: the time left when the card first showed.
  const [firstSeenLeft] = useState(timeLeftMs);
  const total = offer.timeout?.seconds ? offer.timeout.seconds * 1000 : firstSeenLeft;
  const expiring = timeLeftMs < EXPIRING_MS;
  const act = (kind: 'accept' | 'decline', action: () => Promise<void>) => async () => {
    if (busy) return;
    setBusy(kind);
    try {
      await action();
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <article
      class={`offer${expiring ? ' expiring' : ''}`}
      data-testid="offer"
      aria-label={`Offer: ${interaction?.subject ?? ''}`}
    >
      <header>
        <strong class="subject">{interaction?.subject || '(no subject)'}</strong>
        <span class="from">{formatAddress(interaction?.customer)}</span>
      </header>
      <p class="meta">
        {props.queueName}
        {offer.reason !== OfferReason.OFFER_REASON_ROUTED
          ? ` · ${enumLabel(OfferReason[offer.reason] ?? '', 'OFFER_REASON_')}`
          : ''}
        {interaction?.hasAttachments ? ' · has attachments' : ''}
      </p>
      {interaction?.preview ? <p class="preview">{interaction.preview}</p> : null}
      {offer.note ? <p class="note">Note: {offer.note}</p> : null}
      <div class="countdown" role="timer" aria-live={expiring ? 'assertive' : 'off'}>
        <span class="bar" aria-hidden="true">
          <span style={{ width: `${total ? Math.min(100, (timeLeftMs / total) * 100) : 0}%` }} />
        </span>
        <span data-testid="offer-time-left">{timeLeftMs > 0 ? `${formatDuration(timeLeftMs)} left to accept` : 'Expired'}</span>
      </div>
      <div class="actions">
        <button class="primary" disabled={busy !== undefined || timeLeftMs <= 0} onClick={act('accept', props.onAccept)}>
          {busy === 'accept' ? 'Accepting…' : 'Accept'}
        </button>
        <button disabled={busy !== undefined} onClick={act('decline', props.onDecline)}>
          {busy === 'decline' ? 'Declining…' : 'Decline'}
        </button>
      </div>
    </article>
  );
}
