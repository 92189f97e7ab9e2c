import { CheckOutcome, DiagnosticCheck, DiagnosticCode, SetupStep, type DiagnosticFinding } from '@mailroute/contracts';

/** What a finding code means for an operator: the check it belongs to, the step that fixes it, the words. */
interface FindingText {
  check: DiagnosticCheck;
  step: SetupStep;
  message: string;
  remedy: string;
}

/**
 * Operator language for every code the auth-broker reports. Messages say what is wrong; remedies
 * say what to do and where, naming the README's "Microsoft 365 setup" step.
 */
const texts: Partial<Record<DiagnosticCode, FindingText>> = {
  [DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIALS_CONFIGURED,
    step: SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
    message: 'mailroute has no Entra ID app credentials with this id for the tenant.',
    remedy:
      'Setup step "Enter credentials": call CreateTenantCredentials with the directory (tenant) id, the application (client) id and a client secret or certificate.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRING_SOON]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'The client secret expires soon; when it does, mail intake and sending for this tenant stop.',
    remedy:
      'Setup step "Add app credential": in Entra ID > App registrations > (the app) > Certificates & secrets, create a new client secret, then enter its Value and expiry with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'The client secret has expired: mail intake and sending for this tenant have stopped.',
    remedy:
      'Setup step "Add app credential": in Entra ID > App registrations > (the app) > Certificates & secrets, create a new client secret, then enter its Value and expiry with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRING_SOON]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'The certificate expires soon; when it does, mail intake and sending for this tenant stop.',
    remedy:
      'Setup step "Add app credential": create a new certificate, upload it in Entra ID > App registrations > (the app) > Certificates & secrets, then enter it with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'The certificate has expired: mail intake and sending for this tenant have stopped.',
    remedy:
      'Setup step "Add app credential": create a new certificate, upload it in Entra ID > App registrations > (the app) > Certificates & secrets, then enter it with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_NOT_YET_VALID]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'The certificate is not valid yet (its validity starts in the future).',
    remedy:
      'Setup step "Add app credential": wait until the certificate becomes valid, or enter a certificate that is valid now.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_AUTHORITY_UNREACHABLE]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE,
    step: SetupStep.SETUP_STEP_CONNECTIVITY,
    message:
      'The Entra ID sign-in host could not be reached over trusted HTTPS (DNS, connection refused, timeout, or a TLS certificate the auth-broker does not trust).',
    remedy:
      'Setup step "Connectivity": allow outbound HTTPS from the auth-broker to the authority host (proxy, firewall, DNS), trust a TLS-inspecting proxy\'s CA with NODE_EXTRA_CA_CERTS, and check the cloud of the credentials; the auth-broker\'s log names the exact network error.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_AUTHORITY_TLS_UNTRUSTED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE,
    step: SetupStep.SETUP_STEP_CONNECTIVITY,
    message: "The Entra ID sign-in host's TLS certificate is not trusted by the auth-broker.",
    remedy:
      'Setup step "Connectivity": add the issuing CA (e.g. a TLS-inspecting proxy or the graph sandbox CA) with NODE_EXTRA_CA_CERTS and restart the auth-broker.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_TENANT_NOT_FOUND]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_TENANT_EXISTS,
    step: SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
    message: 'Entra ID does not know the directory (tenant) id or domain in this cloud.',
    remedy:
      'Setup step "Enter credentials": copy the Directory (tenant) ID from the app\'s Overview page in Entra ID and correct directory_id (and the cloud) with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_APP_NOT_FOUND]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED,
    step: SetupStep.SETUP_STEP_REGISTER_APP,
    message: 'The application (client) id is not an app registered in this directory.',
    remedy:
      'Setup step "Register app": register the app in this directory (Entra ID > App registrations), or copy the Application (client) ID from its Overview page and correct client_id with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_APP_DISABLED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED,
    step: SetupStep.SETUP_STEP_REGISTER_APP,
    message: 'The app (or its enterprise application) is disabled in this directory.',
    remedy:
      'Setup step "Register app": in Entra ID > Enterprise applications > (the app) > Properties, set "Enabled for users to sign in" to Yes.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_SECRET_INVALID]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
    step: SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
    message: "Entra ID rejected the client secret. Usually the secret's ID was entered instead of its Value.",
    remedy:
      'Setup step "Enter credentials": in Entra ID > App registrations > (the app) > Certificates & secrets, create a new client secret, copy its Value (shown once) and enter it with UpdateTenantCredentials.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
    step: SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
    message: 'Entra ID rejected the certificate: it is not uploaded to this app registration, or has expired there.',
    remedy:
      'Setup step "Add app credential": upload this certificate (its public part) in Entra ID > App registrations > (the app) > Certificates & secrets; its thumbprint must match the one mailroute shows.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
    step: SetupStep.SETUP_STEP_GRANT_ADMIN_CONSENT,
    message: "No administrator has granted consent for the app's Microsoft Graph permissions in this directory.",
    remedy:
      'Setup step "Grant admin consent": in Entra ID > App registrations > (the app) > API permissions, click "Grant admin consent for <directory>" (needs a Global or Privileged Role Administrator).',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_MAIL_READ_WRITE_NOT_GRANTED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE,
    step: SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
    message: 'The app may not read mail: the Microsoft Graph permission Mail.ReadWrite is not granted.',
    remedy:
      'Setup step "Grant API permissions": add Microsoft Graph > Application permissions > Mail.ReadWrite to the app, then grant admin consent.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_MAIL_SEND_NOT_GRANTED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND,
    step: SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
    message: 'The app may not send replies: the Microsoft Graph permission Mail.Send is not granted.',
    remedy:
      'Setup step "Grant API permissions": add Microsoft Graph > Application permissions > Mail.Send to the app, then grant admin consent.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_BLOCKED_BY_CONDITIONAL_ACCESS]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
    step: SetupStep.SETUP_STEP_REVIEW_CONDITIONAL_ACCESS,
    message: 'A Conditional Access policy blocks the sign-in.',
    remedy:
      'Setup step "Review Conditional Access": in Entra ID > Conditional Access, exclude the app (or the signing-in user) from the blocking policy, or allow the auth-broker\'s network location.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_MISSING]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_DELEGATED_GRANT,
    step: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
    message: 'The mailbox uses delegated access and nobody has signed in for it yet.',
    remedy:
      'Setup step "Delegated sign-in": call StartDelegatedSignIn for the mailbox and have its owner enter the code at the verification page.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_DELEGATED_GRANT,
    step: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
    message:
      "The mailbox's delegated sign-in expired or was revoked (inactivity, password change, sign-in frequency policy or an administrator): intake for it has stopped.",
    remedy: 'Setup step "Delegated sign-in": call StartDelegatedSignIn for the mailbox and have its owner sign in again.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
    step: SetupStep.SETUP_STEP_UNSPECIFIED,
    message: 'Entra ID is throttling token requests; the check could not finish.',
    remedy: 'Nothing to change; mailroute retries by itself. Run the diagnosis again in a minute.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
    step: SetupStep.SETUP_STEP_UNSPECIFIED,
    message: 'Entra ID had a temporary failure; the check could not finish.',
    remedy: 'Nothing to change; mailroute retries by itself. Run the diagnosis again in a minute.',
  },
  [DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR]: {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
    step: SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
    message: 'Entra ID refused the token request for a reason mailroute does not classify.',
    remedy:
      'Setup step "Enter credentials": check the app registration against the README\'s Microsoft 365 setup; the details carry Entra ID\'s error code for a support ticket.',
  },
};

/** A FAILED (or WARNING) finding for `code`, in operator language, with its setup step. */
export function findingFor(
  code: DiagnosticCode,
  options: { outcome?: CheckOutcome; check?: DiagnosticCheck; details?: Record<string, string>; message?: string } = {},
): DiagnosticFinding {
  const text = texts[code];
  if (!text) throw new Error(`no operator text for ${DiagnosticCode[code]}`);
  return {
    check: options.check ?? text.check,
    outcome: options.outcome ?? CheckOutcome.CHECK_OUTCOME_FAILED,
    code,
    message: options.message ?? text.message,
    setupStep: text.step,
    remedy: text.remedy,
    details: options.details ?? {},
  };
}

/** A PASSED finding for `check`. */
export function passed(check: DiagnosticCheck, message: string, details: Record<string, string> = {}): DiagnosticFinding {
  return {
    check,
    outcome: CheckOutcome.CHECK_OUTCOME_PASSED,
    code: DiagnosticCode.DIAGNOSTIC_CODE_OK,
    message,
    setupStep: SetupStep.SETUP_STEP_UNSPECIFIED,
    remedy: '',
    details,
  };
}

/** A SKIPPED finding for `check` (an earlier check it depends on failed). */
export function skipped(check: DiagnosticCheck): DiagnosticFinding {
  return {
    check,
    outcome: CheckOutcome.CHECK_OUTCOME_SKIPPED,
    code: DiagnosticCode.DIAGNOSTIC_CODE_UNSPECIFIED,
    message: 'Not checked: an earlier check failed.',
    setupStep: SetupStep.SETUP_STEP_UNSPECIFIED,
    remedy: '',
    details: {},
  };
}
