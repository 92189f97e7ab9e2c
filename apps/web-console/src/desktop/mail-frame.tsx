// A message body in a sandboxed frame: no scripts (no allow-scripts), its document built by
// prepareMailHtml. By default the frame is a `srcdoc` document, which inherits the console's
// Content-Security-Policy: no remote image can load, whatever the HTML says. When the agent chooses
// "Show remote images" for this message (and only this one), the frame loads the gateway's empty
// /mail-frame.html instead — a page with a policy of its own that allows images from anywhere and
// still no script — and the desktop copies the prepared (sanitized) document into it.
// allow-same-origin lets the desktop size the frame and fill it (the frame can run nothing, so it
// cannot use that origin itself); allow-popups lets a clicked link open in a new tab.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { prepareMailHtml, textAsHtml } from './mail-html';

/** The gateway's page for a message with remote images allowed (apps/web-gateway http/mail-frame-page.ts). */
const remoteImagesFrameUrl = '/mail-frame.html';

/** Fits the frame to its content: the body's height, not the root's (the root is at least as tall as the frame). */
function fit(element: HTMLIFrameElement): void {
  const body = element.contentDocument?.body;
  if (body) element.style.height = `${Math.min(Math.max(body.scrollHeight + 8, 48), 4000)}px`;
}

/** Replaces the frame's (empty, same-origin) document with the prepared one; the frame's own policy governs its loads. */
function fill(element: HTMLIFrameElement, prepared: string): boolean {
  const doc = element.contentDocument;
  if (!doc || doc.readyState !== 'complete' || !doc.location.pathname.endsWith(remoteImagesFrameUrl)) return false;
  const parsed = new DOMParser().parseFromString(prepared, 'text/html');
  doc.documentElement.replaceWith(doc.importNode(parsed.documentElement, true));
  return true;
}

export function MailFrame(props: { html: string; text: string; cidImages: Record<string, string>; title: string }) {
  const [allowRemote, setAllowRemote] = useState(false);
  const frame = useRef<HTMLIFrameElement>(null);
  const prepared = useMemo(
    () => prepareMailHtml(props.html || textAsHtml(props.text), { allowRemoteImages: allowRemote, cidImages: props.cidImages }),
    [props.html, props.text, props.cidImages, allowRemote],
  );
  useEffect(() => {
    const element = frame.current;
    if (!element) return;
    const loaded = () => {
      if (allowRemote) fill(element, prepared.srcdoc);
      fit(element);
    };
    // The remote-images page may have loaded already (the content changed since, e.g. cid: images arrived).
    if (allowRemote && fill(element, prepared.srcdoc)) fit(element);
    element.addEventListener('load', loaded);
    // A narrower window wraps the message onto more lines: fit again, or its end (a blocked image's placeholder,
    // the last lines) is cut off. Only a new width counts: fitting changes the height, which fires this too.
    let width = element.clientWidth;
    const resized = new ResizeObserver(() => {
      if (element.clientWidth === width) return;
      width = element.clientWidth;
      fit(element);
    });
    resized.observe(element);
    return () => {
      element.removeEventListener('load', loaded);
      resized.disconnect();
    };
  }, [allowRemote, prepared.srcdoc]);
  return (
    <div class="mail-body">
      {prepared.blockedImages > 0 ? (
        <p class="blocked" data-testid="remote-images-blocked">
          {prepared.blockedImages === 1 ? '1 remote image was' : `${prepared.blockedImages} remote images were`} not loaded, so
          the sender cannot tell that you read this.{' '}
          <button class="link" onClick={() => setAllowRemote(true)}>
            Show remote images
          </button>
        </p>
      ) : null}
      {allowRemote ? (
        <iframe
          key="remote-images"
          ref={frame}
          class="mail-frame"
          title={props.title}
          sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer"
          src={remoteImagesFrameUrl}
          data-testid="mail-frame"
          data-remote-images="shown"
        />
      ) : (
        <iframe
          key="sealed"
          ref={frame}
          class="mail-frame"
          title={props.title}
          sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer"
          srcdoc={prepared.srcdoc}
          data-testid="mail-frame"
        />
      )}
    </div>
  );
}
