import type { Diagnosis, DiagnosticFinding, Duration } from '@mailroute/contracts';
import { CheckOutcome, DiagnosisResult, DiagnosticCheck, DiagnosticCode, SetupStep } from '@mailroute/contracts';
import { durationSeconds, enumLabel } from './values';

/**
 * Makes text safe for a terminal: e-mail subjects, addresses and names are untrusted, and an
 * escape sequence in a subject must not be able to rewrite the operator's screen. Control
 * characters (C0, DEL, C1, and the bidi overrides) become `?`; line breaks become spaces.
 */
export function terminalSafe(text: string): string {
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** Cuts text to `width` code points, marking the cut with `…`. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** A plain-text table: a header row, then one row per item; columns padded with two spaces. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  const cells = rows.map((row) => headers.map((_header, index) => terminalSafe(String(row[index] ?? ''))));
  const widths = headers.map((header, index) => Math.max(header.length, ...cells.map((row) => [...(row[index] ?? '')].length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => (index === values.length - 1 ? value : value + ' '.repeat((widths[index] ?? 0) - [...value].length)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `key: value` lines, keys aligned; empty values are left out. */
export function keyValues(pairs: readonly (readonly [string, string | number | boolean | undefined])[]): string {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== '');
  const width = Math.max(0, ...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${terminalSafe(String(value))}`).join('\n');
}

/** A duration for people: `45s`, `12m`, `1h05m`, `3d04h`. */
export function formatDuration(duration: Duration | number | undefined): string {
  if (duration === undefined) return '';
  const total = Math.round(typeof duration === 'number' ? duration : durationSeconds(duration));
  const sign = total < 0 ? '-' : '';
  let rest = Math.abs(total);
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3_600);
  rest -= hours * 3_600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${sign}${days}d${two(hours)}h`;
  if (hours > 0) return `${sign}${hours}h${two(minutes)}m`;
  if (minutes > 0) return `${sign}${minutes}m${seconds > 0 ? `${two(seconds)}s` : ''}`;
  return `${sign}${seconds}s`;
}

/** An instant as UTC without milliseconds: `2026-11-22 03:41:15Z`. */
export function formatTime(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return '';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A percentage with one decimal: `87.5%`. */
export function formatPercent(value: number): string {
  return `${(Math.round(value * 10) / 10).toFixed(1)}%`;
}

/** A diagnosis as a table of its checks, then what to do about the first failure or warning. */
export function formatDiagnosis(title: string, diagnosis: Diagnosis | undefined): string {
  if (!diagnosis) return `${title}: no diagnosis returned`;
  const result = enumLabel(DiagnosisResult, 'DIAGNOSIS_RESULT', diagnosis.result);
  const rows = diagnosis.findings.map((finding) => [
    enumLabel(CheckOutcome, 'CHECK_OUTCOME', finding.outcome),
    enumLabel(DiagnosticCheck, 'DIAGNOSTIC_CHECK', finding.check),
    finding.code === DiagnosticCode.DIAGNOSTIC_CODE_OK ? '' : enumLabel(DiagnosticCode, 'DIAGNOSTIC_CODE', finding.code),
    truncate(finding.message, 100),
  ]);
  const lines = [`${title}: ${result}`, '', table(['OUTCOME', 'CHECK', 'CODE', 'MESSAGE'], rows)];
  const first =
    diagnosis.findings.find((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED) ??
    diagnosis.findings.find((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_WARNING);
  if (first) lines.push('', ...formatFindingAdvice(first));
  return lines.join('\n');
}

/** What a finding asks the operator to do: message, setup step, remedy and support details. */
export function formatFindingAdvice(finding: DiagnosticFinding): string[] {
  const lines = [`${enumLabel(CheckOutcome, 'CHECK_OUTCOME', finding.outcome)}: ${terminalSafe(finding.message)}`];
  if (finding.setupStep !== SetupStep.SETUP_STEP_UNSPECIFIED) {
    lines.push(`setup step: ${enumLabel(SetupStep, 'SETUP_STEP', finding.setupStep)} (docs/real-tenant.md)`);
  }
  if (finding.remedy) lines.push(`remedy: ${terminalSafe(finding.remedy)}`);
  const details = Object.entries(finding.details);
  if (details.length > 0) lines.push(`details: ${details.map(([key, value]) => `${key}=${terminalSafe(value)}`).join(' ')}`);
  return lines;
}
