// Mailboxes with their sync status and, on request, the access diagnosis (DiagnoseMailboxAccess).
import {
  CheckOutcome,
  DiagnosisResult,
  MailboxAccessMode,
  MailboxIntakeMode,
  MailboxKind,
  MailboxPollingReason,
  MailboxSyncState,
  type DiagnoseMailboxAccessResponse,
  type MailboxIntake,
} from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import type { ConsoleClients } from '../api/clients';
import { toFailure } from '../api/errors';
import { enumLabel, formatTime } from '../ui/format';
import { usePoll } from '../ui/use-poll';
import { Empty, FailureLine, listAll } from './shared';

function Diagnosis(props: { result: DiagnoseMailboxAccessResponse }) {
  const diagnosis = props.result.diagnosis;
  return (
    <div>
      <strong>{enumLabel(DiagnosisResult[diagnosis?.result ?? 0] ?? '', 'DIAGNOSIS_RESULT_')}</strong>
      <ul>
        {(diagnosis?.findings ?? []).map((finding, index) => (
          <li key={index} class={finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED ? 'error' : ''}>
            {enumLabel(CheckOutcome[finding.outcome] ?? '', 'CHECK_OUTCOME_')}: {finding.message}
            {finding.remedy ? <div class="muted small">Fix: {finding.remedy}</div> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Push (with the subscription's expiry) or polling and why. */
function IntakeLine(props: { intake: MailboxIntake | undefined }) {
  const intake = props.intake;
  if (!intake || intake.mode === MailboxIntakeMode.MAILBOX_INTAKE_MODE_UNSPECIFIED) return null;
  if (intake.mode === MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH)
    return (
      <div class="muted small" data-testid="mailbox-intake">
        Push · subscription until {formatTime(intake.subscriptionExpiresAt)}
      </div>
    );
  return (
    <div class="muted small" data-testid="mailbox-intake" title={intake.detail}>
      Polling · {enumLabel(MailboxPollingReason[intake.pollingReason] ?? '', 'MAILBOX_POLLING_REASON_')}
    </div>
  );
}

export function MailboxesSection(props: { mailboxClient: ConsoleClients['mailboxes'] }) {
  const { mailboxClient } = props;
  const mailboxes = usePoll(
    () =>
      listAll(
        (page) =>
          mailboxClient.listMailboxes({ page, addressContains: '', syncState: MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED }),
        (r) => r.mailboxes,
      ),
    15_000,
  );
  const [diagnoses, setDiagnoses] = useState<Record<string, DiagnoseMailboxAccessResponse | string>>({});
  const diagnose = async (mailboxId: string) => {
    setDiagnoses((d) => ({ ...d, [mailboxId]: 'Checking…' }));
    try {
      const result = await mailboxClient.diagnoseMailboxAccess({
        target: { $case: 'mailboxId', value: mailboxId },
        skipSendCheck: false,
      });
      setDiagnoses((d) => ({ ...d, [mailboxId]: result }));
    } catch (failure) {
      setDiagnoses((d) => ({ ...d, [mailboxId]: toFailure(failure).message }));
    }
  };
  return (
    <>
      <h2>Mailboxes</h2>
      <FailureLine failure={mailboxes.failure} what="mailboxes" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Mailbox</th>
              <th>Sync</th>
              <th>Last synced</th>
              <th class="num">Backlog</th>
              <th>Diagnosis</th>
            </tr>
          </thead>
          <tbody>
            {(mailboxes.data ?? []).map((m) => {
              const status = m.syncStatus;
              const diagnosis = diagnoses[m.mailboxId];
              return (
                <tr key={m.mailboxId} data-testid="mailbox-row">
                  <td>
                    {m.address}
                    <div class="muted small" data-testid="mailbox-kind">
                      {m.kind ? enumLabel(MailboxKind[m.kind] ?? '', 'MAILBOX_KIND_') : 'kind not detected yet'} ·{' '}
                      {enumLabel(
                        MailboxAccessMode[m.accessMode || MailboxAccessMode.MAILBOX_ACCESS_MODE_APP_ONLY] ?? '',
                        'MAILBOX_ACCESS_MODE_',
                      )}{' '}
                      · {m.mailboxId}
                    </div>
                  </td>
                  <td>
                    {enumLabel(MailboxSyncState[status?.state ?? 0] ?? '', 'MAILBOX_SYNC_STATE_')}
                    {status?.lastError?.message ? <div class="error small">{status.lastError.message}</div> : null}
                    <IntakeLine intake={status?.intake} />
                  </td>
                  <td class="small">{formatTime(status?.lastSuccessfulSyncAt)}</td>
                  <td class="num">{status?.backlogMessages ?? 0}</td>
                  <td class="small">
                    {diagnosis === undefined ? (
                      <button onClick={() => void diagnose(m.mailboxId)}>Diagnose</button>
                    ) : typeof diagnosis === 'string' ? (
                      diagnosis
                    ) : (
                      <Diagnosis result={diagnosis} />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Empty list={mailboxes.data} text="No mailboxes." />
    </>
  );
}
