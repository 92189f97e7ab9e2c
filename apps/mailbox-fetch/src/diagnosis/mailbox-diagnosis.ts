import {
  CheckOutcome,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  SetupStep,
  type DiagnoseMailboxAccessResponse,
  type DiagnosticFinding,
  type Mailbox,
} from '@mailroute/contracts';
import { isGraphMailError, type GraphMailClient } from '@mailroute/graph-mail';
import { NotFoundError } from '@mailroute/platform';
import type { MailboxFetchCore } from '../mailbox-fetch';
import { readMailboxFields } from '../mailboxes/mailbox-config';
import { mailboxKey, type MailboxRecord } from '../store/mailbox-fetch.records';
import { folderSelector, targetOf } from '../sync/mailbox-sync';
import { describeSyncFailure } from '../sync/sync-failure';

const passed = (check: DiagnosticCheck, message: string): DiagnosticFinding => ({
  check,
  outcome: CheckOutcome.CHECK_OUTCOME_PASSED,
  code: DiagnosticCode.DIAGNOSTIC_CODE_OK,
  message,
  setupStep: SetupStep.SETUP_STEP_UNSPECIFIED,
  remedy: '',
  details: {},
});

const skipped = (check: DiagnosticCheck): DiagnosticFinding => ({
  check,
  outcome: CheckOutcome.CHECK_OUTCOME_SKIPPED,
  code: DiagnosticCode.DIAGNOSTIC_CODE_UNSPECIFIED,
  message: 'Not checked: an earlier check failed.',
  setupStep: SetupStep.SETUP_STEP_UNSPECIFIED,
  remedy: '',
  details: {},
});

/**
 * DiagnoseMailboxAccess: token → mailbox exists → app may read it → may send as it → folders
 * exist, in that order; the first failure is reported in operator language and later checks are
 * SKIPPED.
 */
export function createMailboxDiagnosis(deps: { core: MailboxFetchCore; graph: GraphMailClient; clock?: () => number }) {
  const clock = deps.clock ?? Date.now;
  return {
    async diagnose(
      tenantId: string,
      target: { mailboxId: string } | { candidate: Mailbox },
      skipSendCheck: boolean,
    ): Promise<DiagnoseMailboxAccessResponse> {
      let record: MailboxRecord;
      if ('mailboxId' in target) {
        const stored = await deps.core.stores.mailboxes.get(mailboxKey(tenantId, target.mailboxId));
        if (!stored) throw new NotFoundError('mailbox', target.mailboxId);
        record = stored;
      } else {
        const fields = readMailboxFields(target.candidate, 'target.candidate');
        record = {
          ...fields,
          tenantId,
          mailboxId: 'candidate',
          kind: 0,
          folderGeneration: 0,
          syncFromAt: 0,
          createdAt: 0,
          updatedAt: 0,
          etag: '',
        };
      }
      const api = deps.graph.mailbox(targetOf(record));
      const order = [
        DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
        DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_EXISTS,
        DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
        DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS,
        DiagnosticCheck.DIAGNOSTIC_CHECK_FOLDER_EXISTS,
        DiagnosticCheck.DIAGNOSTIC_CHECK_MOVE_FOLDER_EXISTS,
      ];
      const findings: DiagnosticFinding[] = [];
      let warning = false;
      let permissions: string[] = [];
      /** The app the token was issued to, named in the remedies' PowerShell (as `tenant diagnose` does). */
      let appId = '';
      const fail = (error: unknown, fallback: DiagnosticCheck): DiagnoseMailboxAccessResponse => {
        const failure = describeSyncFailure(error, record.address, record.accessMode, appId);
        const check = failure.finding.check || fallback;
        findings.push({ ...failure.finding, check, outcome: CheckOutcome.CHECK_OUTCOME_FAILED });
        for (const later of order.slice(order.indexOf(check) + 1)) findings.push(skipped(later));
        return {
          mailboxAddress: record.address,
          diagnosis: { result: DiagnosisResult.DIAGNOSIS_RESULT_FAILED, findings, checkedAt: new Date(clock()) },
        };
      };

      try {
        ({ permissions, appId } = await api.tokenClaims());
        findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED, 'A Graph token was acquired for the mailbox.'));
      } catch (error) {
        return fail(error, DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED);
      }
      try {
        await api.getFolder({ wellKnownName: 'inbox' });
        findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_EXISTS, `The mailbox ${record.address} exists.`));
        findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS, `The app may read ${record.address}.`));
      } catch (error) {
        if (isGraphMailError(error) && (error.kind === 'outside-access-policy' || error.kind === 'access-denied')) {
          findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_EXISTS, `The mailbox ${record.address} exists.`));
        }
        return fail(error, DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS);
      }
      if (skipSendCheck)
        findings.push({
          ...skipped(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS),
          message: 'Not checked: skip_send_check was set.',
        });
      else if (permissions.length === 0) {
        warning = true;
        findings.push({
          ...passed(
            DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS,
            'The token does not list its permissions; sending could not be verified without sending mail.',
          ),
          outcome: CheckOutcome.CHECK_OUTCOME_WARNING,
        });
      } else if (!permissions.includes('Mail.Send')) {
        findings.push({
          check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS,
          outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
          code: DiagnosticCode.DIAGNOSTIC_CODE_SEND_AS_DENIED,
          message: `The app may read ${record.address} but not send as it: the Mail.Send permission is not granted.`,
          setupStep: SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
          remedy:
            'In Entra ID > App registrations > mailroute > API permissions, add the application permission Mail.Send and grant admin consent.',
          details: {},
        });
        for (const later of order.slice(order.indexOf(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS) + 1))
          findings.push(skipped(later));
        return {
          mailboxAddress: record.address,
          diagnosis: { result: DiagnosisResult.DIAGNOSIS_RESULT_FAILED, findings, checkedAt: new Date(clock()) },
        };
      } else
        findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS, `The app may send as ${record.address}.`));
      try {
        await api.getFolder(folderSelector(record.folder));
        findings.push(passed(DiagnosticCheck.DIAGNOSTIC_CHECK_FOLDER_EXISTS, 'The folder to read exists.'));
      } catch (error) {
        return fail(error, DiagnosticCheck.DIAGNOSTIC_CHECK_FOLDER_EXISTS);
      }
      if (record.moveTo) {
        const selector = folderSelector(record.moveTo);
        const exists =
          'path' in selector
            ? await api.resolveFolderPath(selector.path, false)
            : await api.getFolder(selector).catch(() => undefined);
        if (exists)
          findings.push(
            passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MOVE_FOLDER_EXISTS, 'The folder processed mail is moved to exists.'),
          );
        else {
          warning = true;
          findings.push({
            check: DiagnosticCheck.DIAGNOSTIC_CHECK_MOVE_FOLDER_EXISTS,
            outcome: CheckOutcome.CHECK_OUTCOME_WARNING,
            code: DiagnosticCode.DIAGNOSTIC_CODE_MOVE_FOLDER_WILL_BE_CREATED,
            message: 'The folder processed mail is moved to does not exist yet; mailroute creates it on first use.',
            setupStep: SetupStep.SETUP_STEP_UNSPECIFIED,
            remedy: '',
            details: {},
          });
        }
      }
      return {
        mailboxAddress: record.address,
        diagnosis: {
          result: warning ? DiagnosisResult.DIAGNOSIS_RESULT_WARNING : DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY,
          findings,
          checkedAt: new Date(clock()),
        },
      };
    },
  };
}

export type MailboxDiagnosis = ReturnType<typeof createMailboxDiagnosis>;
