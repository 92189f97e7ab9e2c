// Attaching a file the tenant already uploaded (ListTemplateAttachments), by its upload id: the same file
// serves several templates without a second upload.
import type { InteractionRouterServiceClient, TemplateAttachment } from '@mailroute/contracts';
import { formatBytes } from '../../ui/format';
import { usePoll } from '../../ui/use-poll';
import { FailureLine, listAll } from '../shared';

export function UploadedFilePicker(props: {
  router: InteractionRouterServiceClient;
  /** Upload ids the template lists already (not offered again). */
  attached: string[];
  disabled: boolean;
  onPick: (file: TemplateAttachment) => void;
}) {
  const files = usePoll(
    () =>
      listAll(
        (page) => props.router.listTemplateAttachments({ page }),
        (r) => r.attachments,
      ),
    60_000,
    [props.attached.join()],
  );
  const choices = (files.data ?? []).filter((file) => !props.attached.includes(file.uploadId));
  if (!choices.length) return <FailureLine failure={files.failure} what="uploaded files" />;
  return (
    <label class="uploaded-files">
      Or attach a file already uploaded
      <select
        value=""
        disabled={props.disabled}
        onChange={(e) => {
          const file = choices.find((f) => f.uploadId === e.currentTarget.value);
          if (file)
            props.onPick({ uploadId: file.uploadId, name: file.name, contentType: file.contentType, sizeBytes: file.sizeBytes });
        }}
      >
        <option value="">choose…</option>
        {choices.map((file) => (
          <option key={file.uploadId} value={file.uploadId}>
            {file.name} ({formatBytes(file.sizeBytes)}
            {file.templateIds.length ? `, in ${file.templateIds.length} template${file.templateIds.length === 1 ? '' : 's'}` : ''}
            )
          </option>
        ))}
      </select>
    </label>
  );
}
